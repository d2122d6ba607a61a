"""bace-opt: schedule pipeline-parallel LLM training across cloud regions, and prove how good it is.

The package is laid out as its layers (docs/architecture.md): ``core`` (the domain), ``formulas``
(the system model's formulas, each once), ``resources`` (the ledger of free GPUs and bandwidth),
``policies`` (BACE-Pipe, the baselines, the exact ``milp`` policy and their registry), ``sim``
(the event-driven simulator), ``milp`` (the exact epoch model), ``checker`` (an independent
check), ``io`` (files in and out), ``report`` (outputs), ``app`` and ``sweeps`` (what the commands
do) and ``cli`` (the thin command line).
"""

__version__ = "0.1.0"
