"""The package's shape, held by tests: no import cycle, small modules, each formula of DESIGN §2
written in one place, and registry facts that agree with the policies they describe."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

from bace_opt.policies import POLICIES, make_policy

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "bace_opt"
MAX_MODULE_LINES = 350


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path: Path) -> set[str]:
    """Every bace_opt module ``path`` imports, anywhere in it (also inside functions and
    ``TYPE_CHECKING`` blocks): ``from pkg import sub`` counts as the submodule when it is one."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("bace_opt"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bace_opt"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else str(node.module))
    return found & MODULES.keys()


def test_no_import_cycle() -> None:
    graph = nx.DiGraph()
    for name, path in MODULES.items():
        graph.add_node(name)
        graph.add_edges_from((name, other) for other in imported_modules(path) if other != name)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_import_graph_sees_lazy_imports() -> None:
    """The check above is only worth something if it reads imports inside functions."""
    assert "bace_opt.milp" in imported_modules(MODULES["bace_opt.policies.registry"])


LAYERS = [
    {"errors", "version"},
    {"core"},
    {"formulas"},
    {"resources", "io"},
    {"milp", "checker"},
    {"policies"},
    {"sim"},
    {"report"},
    {"app", "bounds"},
    {"sweeps"},
    {"cli"},
    {"__init__", "__main__"},
]
"""The layers, bottom up (docs/architecture.md): a module may import its own layer and those
below, never one above."""


def layer(name: str) -> int:
    part = name.split(".")[1] if "." in name else "__init__"
    return next(i for i, names in enumerate(LAYERS) if part in names)


def test_layers_import_only_downward() -> None:
    assert layer("bace_opt.cli") > layer("bace_opt.sim.engine") > layer("bace_opt.core.world")
    upward = [
        f"{name} imports {other}"
        for name, path in MODULES.items()
        for other in imported_modules(path)
        if layer(other) > layer(name)
    ]
    assert not upward, upward


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name}: {lines} lines; a module this long has two jobs"


FORMULAS = [
    # (what, a spelling of it, the modules allowed to spell it)
    ("the bubble M + S − 1", r"micro_batches\s*\+\s*(job\.)?stages\s*-\s*1", {"formulas.pipeline"}),
    ("t_c's FLOPs (6 · params)", r"\b6(\.0)?\s*\*\s*(job\.model\.)?params", {"formulas.pipeline"}),
    ("TFLOPS in FLOP/s", r"\*\s*1e12", {"formulas.pipeline"}),
    ("bits per byte over a link (8 · A)", r"\b8(\.0)?\s*\*\s*activation", {"formulas.pipeline"}),
    (
        "the memory rule's 16 bytes per parameter",
        r"(\b16(\.0)?|BYTES_PER_PARAM)\s*\*\s*params",
        {"formulas.pipeline"},
    ),
    ("the memory rule", r"fits_memory\(", {"formulas.pipeline", "formulas.job", "io.rules"}),
    (
        "a crossing's round trip",
        r"route_latency_s\(",
        {"core.network", "formulas.placement", "checker"},
    ),
    (
        "a crossing's link loads",
        r"\.route\(",
        {
            "core.network",
            "formulas.placement",
            "checker",
            "resources.feasibility",
            "policies.placing",
        },
    ),
    ("power × PUE", r"power_kw\s*\*\s*\w+\.pue", {"formulas.energy", "checker"}),
    ("I × an iteration", r"iterations\s*\*\s*(\(|iter_time|pipeline_steps)", {"formulas.pipeline"}),
    ("2 · Σ latency", r"\b2(\.0)?\s*\*\s*(sum\(|latency)", {"formulas.pipeline"}),
]


@pytest.mark.parametrize(("what", "pattern", "allowed"), FORMULAS, ids=[f[0] for f in FORMULAS])
def test_each_formula_has_one_home(what: str, pattern: str, allowed: set[str]) -> None:
    """The checker recomputes latency, link loads and cost on its own on purpose: it is the
    independent check of ``formulas.placement`` and of the MILP's coefficients."""
    homes = {
        name.removeprefix("bace_opt.")
        for name, path in MODULES.items()
        if re.search(pattern, path.read_text(encoding="utf-8"))
    }
    assert homes, f"{what}: the pattern no longer matches anything; update the test"
    assert homes <= allowed, f"{what} is written in {sorted(homes - allowed)} too"


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_registry_facts_match_the_policies(name: str) -> None:
    policy = make_policy(name)
    assert policy.name == name
    assert policy.bandwidth_aware == POLICIES[name].bandwidth_aware
