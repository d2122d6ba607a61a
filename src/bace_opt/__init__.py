"""bace-opt: schedule pipeline-parallel LLM training across cloud regions, and prove how good it is.

The package is laid out by the pieces of DESIGN.md: ``schema`` (file format), ``loading`` (files to
domain objects), ``world`` (the frozen domain model), ``pipeline`` (the formulas of §2), ``energy``
(prices and their exact integrals), ``network`` (the region graph), ``workload`` (seeded job
generation) and ``cli`` (the thin command line).
"""

__version__ = "0.1.0"
