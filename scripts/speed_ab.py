"""Time one whole BACE-Pipe simulation of a source tree, to compare two trees on one machine.

    python scripts/speed_ab.py TREE REGIONS JOBS [POLICY]   # → tree regions jobs wall_s check

``TREE`` is a checkout of bace-opt (its ``src/`` and ``benchmarks/worlds.py`` are used), e.g. an
old commit cloned to /tmp/ref beside this one. Run the two trees alternately in fresh processes,
several times each, and compare medians (docs/benchmarks.md, "Speed through the redesign"). The
last column, the sum of every job's end time, must be equal for equal schedules.
"""

from __future__ import annotations

import sys
import time

tree, regions, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
policy = sys.argv[4] if len(sys.argv) > 4 else "bace"
sys.path[:0] = [f"{tree}/src", f"{tree}/benchmarks"]

from bace_opt.policies import make_policy  # noqa: E402
from bace_opt.sim import simulate  # noqa: E402
from worlds import world  # noqa: E402

instance = world(regions, jobs, load=0.7, seed=0)
tic = time.perf_counter()
result = simulate(instance, make_policy(policy, seed=0))
wall = time.perf_counter() - tic
check = sum(r.end_s or 0.0 for r in result.records)
print(f"{tree} {regions} {jobs} {wall:.3f} {check:.6f}")
