"""What one cell of each kind of benchmark measures: a function of plain keywords (so it can run
in a fresh process) returning one row. Kept out of ``registry`` so that importing the registry,
and a cell's process, load only the modules that cell needs."""

from __future__ import annotations

import resource


def peak_rss_mib() -> float:
    """This process's peak resident set so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
