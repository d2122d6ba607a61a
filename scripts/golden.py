"""Reference outputs: prove that a change to bace-opt's insides leaves what users see unchanged.

``write`` runs every policy on every shipped instance through the command line (``bace-opt run
--no-timing``) and every benchmark snapshot through ``bace-opt epoch``, and records a manifest
(``tests/golden/outputs.json``): the SHA-256 of each ``jobs.csv``, ``summary.json`` (without its
``provenance`` block) and ``timeline.csv``, and per snapshot and solver the epoch's status,
admitted weight and cost.
``check`` does the same runs again and lists every difference (exit 1 if there is one).

    python scripts/golden.py write              # on the code whose behaviour is the reference
    python scripts/golden.py write --no-epochs  # the runs only; the epochs' references are kept
    python scripts/golden.py write --only geo10  # those entries (re)written, the others kept
    python scripts/golden.py check [--only tiny3,hetero4] [--policies bace,sjf]

Epochs whose MILP stops at its time limit depend on the machine's speed (and on what else runs),
so a stopped reference only asks for a stopped result; proven optima and the greedy plans must
match exactly. Check on a quiet machine: a proven optimum that misses its limit under load shows
up as a difference. ``tests/test_golden.py``
checks the quick part of the manifest in every test run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bace_opt.policies import policy_names

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "tests" / "golden" / "outputs.json"
POLICIES = tuple(policy_names())
"""Every registered policy: a new one is in the check as soon as it is in the manifest."""
RUN_FILES = ("jobs.csv", "summary.json", "timeline.csv")
EPOCH_TIME_LIMIT_S = 60.0
EPOCH_THREADS = 1
STOPPED = frozenset({"time_limit", "error"})
"""MILP statuses of a solve the time limit stopped (``error``: its incumbent failed the objective
check at the limit, and the greedy plan was reported)."""


def _bace_opt() -> list[str]:
    return [sys.executable, "-m", "bace_opt"]


def instances() -> list[Path]:
    return sorted((ROOT / "instances").glob("*.yaml"))


def snapshots() -> list[Path]:
    return sorted((ROOT / "benchmarks" / "snapshots").glob("*.yaml"))


def run_digests(instance: Path, policy: str) -> dict[str, str]:
    """SHA-256 of each file ``bace-opt run --no-timing`` writes for ``policy`` on ``instance``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [*_bace_opt(), "run", str(instance), "--policy", policy, "--out", str(out)]
        done = subprocess.run([*cmd, "--no-timing"], capture_output=True, text=True)
        if done.returncode != 0:
            return {name: f"failed: {done.stderr.strip()[-300:]}" for name in RUN_FILES}
        return {name: _digest(name, (out / name).read_bytes()) for name in RUN_FILES}


def _digest(name: str, data: bytes) -> str:
    """SHA-256 of a run file; ``summary.json`` without its ``provenance`` block (the versions it
    names change with every release, the results must not), re-serialized as bace-opt writes JSON
    (sorted keys, two-space indent): the bytes of the file as it was before provenance existed."""
    if name == "summary.json":
        doc = json.loads(data)
        doc.pop("provenance", None)
        data = (json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()
    return hashlib.sha256(data).hexdigest()


def epoch_result(snapshot: Path) -> dict[str, dict[str, Any]]:
    """Per solver: status, admitted weight and epoch cost of ``bace-opt epoch --solver both``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "epoch.json"
        cmd = [*_bace_opt(), "epoch", str(snapshot), "--solver", "both", "--out", str(out)]
        limits = ["--time-limit", str(EPOCH_TIME_LIMIT_S), "--threads", str(EPOCH_THREADS)]
        done = subprocess.run([*cmd, *limits], capture_output=True, text=True)
        if done.returncode != 0:
            failed = {"status": f"failed: {done.stderr.strip()[-300:]}"}
            return {"greedy": failed, "milp": failed}
        doc = json.loads(out.read_text())
    return {
        solver: {
            "status": doc[solver]["status"],
            "weight": doc[solver]["weight_sum"],
            "cost_usd": doc[solver]["cost_usd"],
            "fallback": doc[solver].get("fallback"),
        }
        for solver in ("greedy", "milp")
    }


def _label(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def compute(
    only: Iterable[str] | None, policies: Iterable[str], epochs: bool, workers: int
) -> dict[str, Any]:
    chosen = [p for p in instances() if only is None or p.stem in only]
    jobs = [(i, p) for i in chosen for p in policies]
    with ThreadPoolExecutor(workers) as pool:
        runs = list(pool.map(lambda job: run_digests(*job), jobs))
        snaps = [s for s in snapshots() if only is None or s.stem in only] if epochs else []
        solved = list(pool.map(epoch_result, snaps))
    return {
        "runs": {f"{_label(i)}::{p}": d for (i, p), d in zip(jobs, runs, strict=True)},
        "epochs": {_label(s): r for s, r in zip(snaps, solved, strict=True)},
    }


def load_manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(MANIFEST.read_text())
    return loaded


def differences(reference: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between ``now`` and the part of ``reference`` that ``now`` covers."""
    problems = []
    for key, digests in now["runs"].items():
        expected = reference["runs"].get(key)
        if expected is None:
            problems.append(f"{key}: not in the manifest")
            continue
        for name, digest in digests.items():
            if expected[name] != digest:
                problems.append(f"{key}: {name} differs ({digest[:80]})")
    for key, solvers in now["epochs"].items():
        expected = reference["epochs"].get(key)
        if expected is None:
            problems.append(f"{key}: not in the manifest")
            continue
        for solver, result in solvers.items():
            want = expected[solver]
            if want["status"] in STOPPED and result.get("status") in STOPPED:
                continue  # where a stopped solve ends depends on the machine's speed
            fields = ("status", "weight", "cost_usd", "fallback")
            for field in fields:
                if want[field] != result.get(field):
                    problems.append(
                        f"{key} {solver}: {field} {result.get(field)!r}, reference {want[field]!r}"
                    )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument("--only", help="instance / snapshot file stems, comma-separated")
    parser.add_argument("--policies", help="comma-separated (default: all)")
    parser.add_argument("--no-epochs", action="store_true", help="skip the snapshots")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    policies = args.policies.split(",") if args.policies else list(POLICIES)
    now = compute(only, policies, not args.no_epochs, args.workers)
    if args.action == "write":
        if MANIFEST.exists() and (args.no_epochs or only is not None or args.policies):
            kept = load_manifest()  # rewrite what was run, keep the rest
            now = {part: kept[part] | now[part] for part in ("runs", "epochs")}
        MANIFEST.parent.mkdir(parents=True, exist_ok=True)
        MANIFEST.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"wrote {MANIFEST}: {len(now['runs'])} runs, {len(now['epochs'])} epochs")
        return 0
    problems = differences(load_manifest(), now)
    for line in problems:
        print(line)
    print(f"{len(now['runs'])} runs, {len(now['epochs'])} epochs: {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
