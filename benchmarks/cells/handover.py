"""Cells of ``handover``: where the time goes before HiGHS searches an epoch, per backend.

Why: the issue asks that building the model and handing it to HiGHS take at most 10 % of the
solve at 200 × 16 × 10, under both ways of feeding HiGHS. ``milp-scale`` times the build, but the
hand-over runs inside its ``solve_s``. This cell replays, in the order ``milp.lexicographic``
does them, exactly the calls that move the model into HiGHS, and times each:

* ``data_s`` — ``epoch_data`` (the snapshot's arrays);
* ``build_s`` — ``build_model`` (the Pyomo model users see);
* appsi (``appsi_highs``): ``appsi_attach_s`` — ``set_instance`` of stage 1's model (cost
  families off), ``appsi_update_s`` — appsi's ``update`` when stage 2 switches them on;
* direct (``highs_direct``): ``matrix_s`` — ``epoch_matrix``, ``direct_attach_s`` — the
  Pyomo variables looked up plus ``passModel`` of stage 1's rows, ``direct_update_s`` — the cost
  rows added for stage 2.

No solve runs; the sums ``appsi_s`` and ``direct_s`` (build included) are what a solve of the
epoch pays before HiGHS's own clock starts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bace_opt.io.read import load_snapshot
from bace_opt.milp import SolveOptions
from bace_opt.milp.build import build_model, set_cost_families
from bace_opt.milp.data import epoch_data
from bace_opt.milp.direct import DirectHighsBackend
from bace_opt.milp.matrix import epoch_matrix
from bace_opt.milp.solver import HighsBackend
from bace_opt.policies.bace import Prioritizer
from cells import peak_rss_mib


def handover(path: str, threads: int) -> dict[str, Any]:
    """The build and both hand-overs of the snapshot file ``path``'s epoch; one row."""
    snapshot = load_snapshot(path)
    weights = Prioritizer().weights_of(snapshot)
    options = SolveOptions(threads=threads)

    tic = time.perf_counter()
    data = epoch_data(snapshot, weights)
    data_s = time.perf_counter() - tic

    tic = time.perf_counter()
    m = build_model(data)
    build_s = time.perf_counter() - tic

    set_cost_families(m, active=False)
    appsi = HighsBackend(options)
    tic = time.perf_counter()
    appsi.attach(m)
    appsi_attach_s = time.perf_counter() - tic
    _to_stage_two(m)
    tic = time.perf_counter()
    appsi._opt.update()  # what appsi's solve of stage 2 does first
    appsi_update_s = time.perf_counter() - tic

    m = build_model(data)  # a fresh model, as each epoch has
    set_cost_families(m, active=False)
    tic = time.perf_counter()
    matrix = epoch_matrix(data)
    matrix_s = time.perf_counter() - tic
    direct = DirectHighsBackend(options, data, matrix)
    tic = time.perf_counter()
    direct.attach(m)
    direct_attach_s = time.perf_counter() - tic
    _to_stage_two(m)
    tic = time.perf_counter()
    direct._add_cost_rows()  # what its solve of stage 2 does first
    direct_update_s = time.perf_counter() - tic

    return {
        "snapshot": Path(path).stem,
        "waiting": len(snapshot.waiting),
        "regions": len(snapshot.instance.regions),
        "rows": matrix.shape[0],
        "columns": matrix.shape[1],
        "nonzeros": len(matrix.a_value),
        "data_s": data_s,
        "build_s": build_s,
        "appsi_attach_s": appsi_attach_s,
        "appsi_update_s": appsi_update_s,
        "appsi_s": build_s + appsi_attach_s + appsi_update_s,
        "matrix_s": matrix_s,
        "direct_attach_s": direct_attach_s,
        "direct_update_s": direct_update_s,
        "direct_s": build_s + matrix_s + direct_attach_s + direct_update_s,
        "peak_rss_mib": peak_rss_mib(),
    }


def _to_stage_two(m: Any) -> None:
    """The model as stage 2 solves it: cost objective and the cost families on."""
    m.admission.deactivate()
    m.cost.activate()
    set_cost_families(m, active=True)
