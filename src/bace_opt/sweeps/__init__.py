"""Research sweeps (DESIGN §5–§6): a declarative grid of independent cells, run on local processes
or a Dask cluster, resumable, and a report over seeds.

``spec`` reads the sweep file, ``cells`` expands it and runs one cell, ``bounds`` adds a bound
cell per world and the policies' gaps (a sweep with ``bounds:``), ``runner`` schedules cells and
writes results; ``stats`` computes the report's tables (means and CIs over seeds, paired
reductions), ``figures`` draws its plots, ``gaps`` the gap tables and frontier plots, and
``report`` turns a results folder into all of them and one HTML page.
"""

from bace_opt.sweeps.report import report
from bace_opt.sweeps.runner import SweepOutcome, run_sweep
from bace_opt.sweeps.spec import Sweep, load_sweep

__all__ = ["Sweep", "SweepOutcome", "load_sweep", "report", "run_sweep"]
