"""What the solver processes' forkserver does before it forks anything (``isolate``): import the
solve's modules and HiGHS, warm them up on a tiny model, and change how its children start.

Imported by that forkserver only (by name, from ``worker.context``): imported anywhere else it
would do the same there. Each solver process is a fork of this state, so whatever is done here is
not paid per solve: the imports, Pyomo's and appsi's first-use caches (a cold process builds and
hands over a model markedly slower), the logger setting, and — by ``gc.freeze`` — the collector's
walks over these objects, which would otherwise copy their pages into every child.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
from collections import Counter
from collections.abc import Mapping
from multiprocessing import spawn
from typing import Any

from bace_opt.milp.build import build_model
from bace_opt.milp.data import EpochData, JobData
from bace_opt.milp.solver import PRELOAD
from bace_opt.milp.worker import CHILD_NAME

log = logging.getLogger(__name__)

_prepare = spawn.prepare


def _prepare_child(data: Mapping[str, Any]) -> None:
    """``multiprocessing.spawn.prepare``, but a solver process does not run the caller's main
    module again (its work lives in this package): that would cost each solve the main module's
    imports (the CLI's, pytest's), and run the top level of a script without a main guard."""
    if data.get("name") == CHILD_NAME:
        data = {k: v for k, v in data.items() if not k.startswith("init_main_from")}
    _prepare(data)


def _tiny() -> EpochData:
    """Two jobs, three regions, two GPU types: every constraint family of the model."""
    regions = ("a", "b", "c")
    pairs = {(u, v): Counter({(u, v): 1, (v, u): 1}) for u in regions for v in regions if u != v}
    job = JobData(
        name="j0",
        weight=1.0,
        stages=2,
        width=1,
        blocks=2,
        regions=regions,
        types=("slow", "fast"),
        need_gbps={"slow": 1.0, "fast": 2.0},
        compute_s={"slow": 10.0, "fast": 5.0},
        rate={(r, t): 1e-3 for r in regions for t in ("slow", "fast")},
        pair_latency_s=dict.fromkeys(pairs, 0.1),
        max_stages=dict.fromkeys(regions, 2),
    )
    return EpochData(
        jobs=(job, JobData(**{**vars(job), "name": "j1", "weight": 2.0})),
        regions=regions,
        region_type={"a": "slow", "b": "fast", "c": "fast"},
        type_peak={"slow": 100.0, "fast": 300.0},
        free_gpus=dict.fromkeys(regions, 4),
        residual_gbps={d: 10.0 for uses in pairs.values() for d in uses},
        pair_uses=pairs,
    )


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # pragma: no cover - not Linux: nothing to compare
        return 0


def _warm_up() -> None:
    """Build the tiny model and hand it to appsi's HiGHS, both objectives, without solving: no
    HiGHS thread starts before a solve, which the thread count checks (a fork of a process whose
    threads run may inherit a held lock)."""
    from pyomo.contrib.appsi.solvers import Highs

    before = _threads()
    m = build_model(_tiny())
    opt = Highs()
    opt.config.load_solution = False
    opt.set_instance(m)
    m.admission.deactivate()
    m.cost.activate()
    opt.update()
    if _threads() > before:  # pragma: no cover - a HiGHS that starts threads early
        log.warning("HiGHS started a thread before solving; the solver processes fork it")


for _module in PRELOAD:
    importlib.import_module(_module)
spawn.prepare = _prepare_child
_warm_up()
logging.getLogger("bace_opt").setLevel(logging.DEBUG)  # the children send every record up
gc.collect()
gc.freeze()
