"""BACE-Pipe's reservation variants against the shipped policies on scaled geo6 worlds: the table
behind docs/benchmarks.md, "Reservations and fairness" and "Reservation depth".

    python benchmarks/variants.py \
        --worlds instances/geo6-quarter-spec.yaml@1,instances/geo6-half-spec.yaml@1 \
        --policies bace,bace-depth-2,bace-eager,bace-no-reservation,cost-first \
        --loads 1,2 --seeds 8 --out benchmarks/results/variants.csv

A world is ``SPEC@BANDWIDTH`` (a generator spec, scaled as a sweep scales it: ``bandwidth`` ×
link capacity, ``load`` × arrival rate, the seed's job stream). Besides every registered policy:
``bace-depth-K`` is ``bace`` with up to K reservations per epoch (conservative backfilling for
large K); ``bace-eager`` reserves for the first job that cannot start at once (no patience). Prints
the mean over seeds per (world, load, policy) of average JCT (h), total cost ($), longest and p99
wait (h), and writes every run as CSV.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bace_opt.io.read import parse_instance, read_document
from bace_opt.policies import make_policy
from bace_opt.policies.base import Policy
from bace_opt.sim import simulate
from bace_opt.sweeps.cells import scaled_document


def variant(name: str) -> Policy:
    """A registered policy, or one of the reservation variants named in the module docstring."""
    if name.startswith("bace-depth-"):
        return dataclasses.replace(
            make_policy("bace"), reservation_depth=int(name.rsplit("-", 1)[1])
        )  # type: ignore[type-var]
    if name == "bace-eager":
        return dataclasses.replace(
            make_policy("bace"), reserve_after_s=0.0, reserve_after_slowdown=0.0
        )  # type: ignore[type-var]
    return make_policy(name)


def run(world: str, load: float, seed: int, policy: str) -> dict[str, Any]:
    spec, _, bandwidth = world.partition("@")
    path = Path(spec)
    doc = scaled_document(read_document(path), float(bandwidth or 1), load, seed)
    instance = parse_instance(doc, path.parent, str(path))
    records = simulate(instance, variant(policy)).records
    done = [r for r in records if r.jct_s is not None]
    wait = np.array([r.wait_s for r in done], dtype=float)
    return {
        "world": f"{path.stem}@{float(bandwidth or 1):g}",
        "load": load,
        "seed": seed,
        "policy": policy,
        "avg_jct_h": float(np.mean([r.jct_s for r in done])) / 3600,
        "cost_usd": sum(r.cost_usd for r in done),
        "max_wait_h": float(wait.max()) / 3600,
        "p99_wait_h": float(np.percentile(wait, 99)) / 3600,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", required=True)
    parser.add_argument("--policies", required=True)
    parser.add_argument("--loads", default="1,2")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/variants.csv"))
    args = parser.parse_args()
    cells = list(
        itertools.product(
            args.worlds.split(","),
            [float(x) for x in args.loads.split(",")],
            range(args.seeds),
            args.policies.split(","),
        )
    )
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(run, *zip(*cells, strict=True)))
    table = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    metrics = ["avg_jct_h", "cost_usd", "max_wait_h", "p99_wait_h"]
    means = table.groupby(["world", "load", "policy"], sort=False)[metrics].mean()
    print(means.round(3).to_string())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
