"""The documentation stands on its own: every relative link in the repository's markdown resolves to
a file inside the repository, every ``file.md#anchor`` names a heading of that file, nothing points
at the design brief outside the repository, and docs/model.md lists every output column."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from bace_opt.report.columns import JOB, SUMMARY, TIMELINE_TIME
from tests.conftest import ROOT

MARKDOWN = sorted(
    {
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "instances").glob("*.md"),
        *(ROOT / "benchmarks").glob("**/*.md"),
    }
)
"""Every markdown page a reader of a clone sees."""

NO_OUTSIDE_REFERENCE = sorted(
    {
        *MARKDOWN,
        *(ROOT / "src").glob("**/*.py"),
        *(ROOT / "instances").glob("*.yaml"),
        *(ROOT / "benchmarks").glob("*.yaml"),
    }
)
"""Files that must not refer to the design brief beside the repository."""

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+[^>]*(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
SKIPPED_SCHEMES = {"http", "https", "mailto"}


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code blocks, code spans blanked."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
                continue
            if marker.startswith(fence):
                fence = None
                continue
        if fence is None:
            lines.append((number, CODE_SPAN.sub("code", line)))
    return lines


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every inline link, image and reference definition."""
    found: list[tuple[int, str]] = []
    for number, line in prose_lines(path):
        found += [(number, m.group(2)) for m in INLINE_LINK.finditer(line)]
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            found.append((number, definition.group(1)))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lowercase, punctuation dropped except '-' and
    '_', spaces made '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors a page offers: its headings' slugs (repeats numbered as GitHub does) and any
    HTML ``name``/``id`` anchors."""
    seen: Counter[str] = Counter()
    found: set[str] = set()
    fence: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        found.update(HTML_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            found.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
            seen[base] += 1
    return found


def problem(page: Path, target: str) -> str | None:
    """What is wrong with one link target of ``page``, or None."""
    parts = urlsplit(target)
    if parts.scheme in SKIPPED_SCHEMES or target.startswith("#"):
        return None
    if parts.scheme or parts.netloc:
        return f"{target}: not a path inside the repository"
    relative = unquote(parts.path)
    base = ROOT if relative.startswith("/") else page.parent
    resolved = (base / relative.lstrip("/")).resolve()
    if not resolved.is_relative_to(ROOT):
        return f"{target}: resolves outside the repository"
    if not resolved.exists():
        return f"{target}: no such file"
    if parts.fragment and resolved.suffix == ".md":
        fragment = unquote(parts.fragment)
        if fragment not in anchors(resolved):
            return f"{target}: no heading with anchor #{fragment} in {resolved.relative_to(ROOT)}"
    return None


def test_the_pages_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in MARKDOWN}
    assert {"README.md", "docs/model.md", "docs/rules.md", "instances/PROVENANCE.md"} <= names


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_resolves_inside_the_repository(page: Path) -> None:
    broken = [
        f"{page.relative_to(ROOT)}:{number}: {message}"
        for number, target in links(page)
        if (message := problem(page, target)) is not None
    ]
    assert not broken, "\n".join(broken)


def test_nothing_points_at_the_design_brief_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in NO_OUTSIDE_REFERENCE
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "../shared" in line
    ]
    assert not offenders, "mentions ../shared: " + ", ".join(offenders)


def test_anchors_within_the_model_page_resolve() -> None:
    page = ROOT / "docs" / "model.md"
    offered = anchors(page)
    missing = [
        f"line {number}: {target}"
        for number, target in links(page)
        if target.startswith("#") and unquote(target[1:]) not in offered
    ]
    assert not missing, "\n".join(missing)


def test_the_model_page_lists_every_output_column() -> None:
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    undocumented = [
        column.key for column in (*JOB, *SUMMARY, TIMELINE_TIME) if f"`{column.key}`" not in text
    ]
    assert not undocumented, f"columns missing from docs/model.md: {undocumented}"


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Sweeps (`bace-opt sweep`, `bace-opt report`)", "sweeps-bace-opt-sweep-bace-opt-report"),
        ("models/ — the model catalog", "models--the-model-catalog"),
        (
            "Iteration time T_iter and run times D and D0",
            "iteration-time-t_iter-and-run-times-d-and-d0",
        ),
        ("BACE-Pipe's priority weight", "bace-pipes-priority-weight"),
        ("4. Jobs and the formulas", "4-jobs-and-the-formulas"),
        ("See [the rules](rules.md)", "see-the-rules"),
    ],
)
def test_slugs_follow_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_repeated_headings_are_numbered(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Notes\n\n```\n# not a heading\n```\n\n## Notes\n\n## Notes\n")
    assert anchors(page) == {"notes", "notes-1", "notes-2"}
