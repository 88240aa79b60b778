"""How durations, tokens and costs read to a person: the same in the terminal (`run`,
`history`, `show`, `stats`) and in the editor's CodeLens (the Executions view mirrors it in
`extension/src/format.ts`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def format_duration(ms: float | None, *, unknown: str = "") -> str:
    """`12 ms`, `2.1 s`, `2 min 5 s`; `unknown` when there is no duration (yet)."""
    if ms is None:
        return unknown
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds} s"


def format_cost(usd: float | None, *, unknown: str = "") -> str:
    """`$0.0009`, `$0.004`, `$1.25`: two significant digits below a dollar, cents above."""
    if usd is None:
        return unknown
    if usd == 0:
        return "$0"
    if usd >= 1:
        return f"${usd:,.2f}"
    if usd < 0.000001:
        return "<$0.000001"
    first = 1  # the decimal place of the first significant digit
    while usd < 10**-first:
        first += 1
    return f"${usd:.{first + 1}f}".rstrip("0").rstrip(".")


def format_tokens(count: int | None) -> str:
    """`812 tok`, `12.3k tok`, `1.2M tok`; empty without a count."""
    if count is None:
        return ""
    if count < 10_000:
        return f"{count} tok"
    if count < 1_000_000:
        return f"{count / 1000:.1f}k tok"
    return f"{count / 1_000_000:.1f}M tok"


def cost_parts(item: Mapping[str, Any]) -> list[str]:
    """The tokens and cost of an execution or node (wire keys): `["812 tok", "$0.0009"]`;
    [] when it called no LLM. A run whose calls have no known price shows tokens only."""
    if not item.get("llmCalls"):
        return []
    tokens = (item.get("inputTokens") or 0) + (item.get("outputTokens") or 0)
    return [part for part in (format_tokens(tokens), format_cost(item.get("costUsd"))) if part]


def description(item: Mapping[str, Any]) -> str:
    """`1.2 s · 812 tok · $0.0009`: a duration and what it cost, as the editor shows them."""
    parts = [format_duration(item.get("durationMs")), *cost_parts(item)]
    return " · ".join(part for part in parts if part)
