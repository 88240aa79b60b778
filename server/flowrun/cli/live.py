"""The Rich live table of a running execution (a terminal): one row per node, with a
spinner while it runs; log lines are printed above it, prefixed by their node."""

from __future__ import annotations

import time
from typing import Any

from rich.console import RenderableType
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from flowrun.cli.progress import NodeProgress, log_lines, preview
from flowrun.cli.render import status_mark
from flowrun.humanize import format_duration
from flowrun.status_style import PINNED, style_of


class LiveTable:
    def __init__(self, progress: NodeProgress) -> None:
        self.progress = progress

    def __rich__(self) -> RenderableType:
        table = Table.grid(padding=(0, 1))
        for node_id, entry in self.progress.nodes.items():
            status = entry["status"]
            mark: RenderableType = (
                Spinner("dots", style="yellow") if status == "running" else _mark(entry)
            )
            table.add_row(mark, Text(node_id, style="bold"), *_details(entry))
        return table


def _mark(entry: dict[str, Any]) -> Text:
    if entry.get("pinned"):
        return Text(PINNED.icon, style=PINNED.color)
    return status_mark(entry["status"])


def _details(entry: dict[str, Any]) -> list[Text]:
    status = "pinned" if entry.get("pinned") else entry["status"]
    duration = entry.get("duration_ms")
    if status == "running" and entry.get("started") is not None:
        duration = (time.monotonic() - entry["started"]) * 1000
    extra = ""
    if entry.get("retry"):
        extra = f"retry after attempt {entry['retry']}"
    elif entry.get("error"):
        extra = preview(entry["error"].get("message", ""), 80)
    return [
        Text(status, style=PINNED.color if entry.get("pinned") else style_of(status).color),
        Text(format_duration(duration), style="dim"),
        Text(extra, style="red" if entry.get("error") else "dim"),
    ]


def log_text(event: dict[str, Any], width: int) -> Text:
    """A log event as printed above the live table: the prefix dim, stderr in red."""
    style = "red" if event.get("stream") == "stderr" else ""
    text = Text()
    for index, line in enumerate(log_lines(event, width)):
        prefix, _, rest = line.partition(" | ")
        if index:
            text.append("\n")
        text.append(f"{prefix} │ ", style="dim cyan").append(rest, style=style)
    return text
