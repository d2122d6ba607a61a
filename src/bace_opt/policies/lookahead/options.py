"""``--lookahead value=100,guard_h=24,horizon_h=24,slot_s=900,fine_h=4,max_jobs=64`` (any subset)
→ ``LookaheadSettings``, with one problem line per bad key or value."""

from __future__ import annotations

import dataclasses

from bace_opt.errors import InputError
from bace_opt.io.suggest import closest
from bace_opt.policies.lookahead.horizon import HorizonShape
from bace_opt.policies.lookahead.policy import LookaheadSettings

KEYS: dict[str, tuple[str, float, float]] = {
    "value": ("jct_usd_per_h", 0.0, 1e9),
    "guard_h": ("guard_h", 0.0, 1e6),
    "horizon_h": ("horizon_h", 0.25, 24.0 * 14),
    "slot_s": ("slot_s", 60.0, 24 * 3600.0),
    "fine_h": ("fine_h", 0.0, 24.0 * 14),
    "max_jobs": ("max_jobs", 1, 10_000),
    "max_configs": ("max_configs", 1, 10_000),
}
"""Option key → (settings field, least, most)."""
SHAPE = {f.name for f in dataclasses.fields(HorizonShape)}
WHOLE = {"max_jobs", "max_configs"}


def parse_lookahead(text: str) -> LookaheadSettings:
    """The settings ``text`` names, the defaults for the rest (raises ``InputError``)."""
    values: dict[str, float] = {}
    problems: list[str] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, equals, raw = (s.strip() for s in part.partition("="))
        if key not in KEYS:
            best = closest(key, KEYS)
            names = ", ".join(KEYS)
            hint = f"(did you mean '{best}'?); known: {names}" if best else f"(known: {names})"
            problems.append(f"--lookahead: unknown option '{key}' {hint}")
            continue
        field, least, most = KEYS[key]
        try:
            value = float(raw) if equals else float("nan")
        except ValueError:
            value = float("nan")
        if not least <= value <= most or (key in WHOLE and value != int(value)):  # nan: too
            kind = "a whole number" if key in WHOLE else "a number"
            problems.append(f"--lookahead: {key} must be {kind} in [{least:g}, {most:g}]")
            continue
        values[field] = int(value) if key in WHOLE else value
    if problems:
        raise InputError(problems)
    shape = HorizonShape(**{k: v for k, v in values.items() if k in SHAPE})
    rest = {k: v for k, v in values.items() if k not in SHAPE}
    return LookaheadSettings(shape=shape, **rest)  # type: ignore[arg-type]
