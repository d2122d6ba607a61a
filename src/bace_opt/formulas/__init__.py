"""The formulas of DESIGN §2–§3, each defined once: pipeline timing, bandwidth need, the memory
rule, energy and cost, and what a placement implies for its job."""
