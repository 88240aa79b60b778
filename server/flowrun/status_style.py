"""The one table of how an execution, stage or node status looks: an icon and a colour.

Used by every CLI view (`flowrun run`, `show`, `history`, `diff`) and by the CodeLens
status icons; it has no Rich import so that the language server and the CLI's quick paths
can use it. Colours are Rich style strings.
"""

from __future__ import annotations

from typing import NamedTuple


class StatusStyle(NamedTuple):
    icon: str
    color: str


STATUS_STYLES: dict[str, StatusStyle] = {
    "queued": StatusStyle("…", "dim"),
    "pending": StatusStyle("·", "dim"),
    "running": StatusStyle("▶", "yellow"),
    "paused": StatusStyle("⏸", "cyan"),
    "succeeded": StatusStyle("✓", "green"),
    "failed": StatusStyle("✗", "bold red"),
    "skipped": StatusStyle("↷", "dim"),
    "stopped": StatusStyle("■", "magenta"),
    "timed_out": StatusStyle("⏱", "bold red"),
    "interrupted": StatusStyle("⚠", "magenta"),
}
UNKNOWN = StatusStyle("?", "dim")
PINNED = StatusStyle("📌", "cyan")  # a node whose output is pinned in the file: it did not run
STATUS_ICONS: dict[str, str] = {status: style.icon for status, style in STATUS_STYLES.items()}


def style_of(status: str | None) -> StatusStyle:
    return STATUS_STYLES.get(status or "", UNKNOWN)


def icon(status: str | None) -> str:
    return style_of(status).icon
