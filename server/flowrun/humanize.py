"""How durations read to a person: the same in the terminal (`run`, `history`, `show`) and in
the editor's CodeLens."""

from __future__ import annotations


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
