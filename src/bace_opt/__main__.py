"""``python -m bace_opt`` is the ``bace-opt`` command."""

from bace_opt.cli import main

main()
