"""The domain: regions, links, GPU types, models, jobs, instances and snapshots, the region graph,
placements and price profiles. Frozen values; nothing here changes during a run."""
