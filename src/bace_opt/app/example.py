"""``bace-opt example``: the shipped example instances, copied where a user can run and edit them,
so a ``pip install`` without the repository still has a world to try."""

from __future__ import annotations

import shutil
from pathlib import Path

from bace_opt.io.catalog import examples_dir
from bace_opt.io.write import staged_folder


def copy_examples(out: Path) -> list[str]:
    """Copy every example instance, with the data files they name (price series, traces, their
    provenance notes), into ``out``; same-named entries there are replaced together, others are
    left alone. Returns the instance files' names (the spec files among them are the
    ``bace-opt generate`` inputs)."""
    source = examples_dir()
    with staged_folder(out) as staging:
        for entry in sorted(source.iterdir()):
            if entry.name.startswith((".", "__")):
                continue
            if entry.is_dir():
                shutil.copytree(entry, staging / entry.name)
            else:
                shutil.copy2(entry, staging / entry.name)
    return sorted(p.name for p in source.glob("*.yaml"))
