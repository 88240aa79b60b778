"""Rich rendering of executions: the live per-node view, the execution tree (design §7)
and the failure panel. Used by `flowrun run`; `flowrun show` can reuse `print_execution`.

`ProgressLines` is the plain, Rich-free progress for pipes and logs.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.spinner import Spinner
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from flowrun.humanize import format_duration

STATUS_STYLE: dict[str, tuple[str, str]] = {
    "queued": ("…", "dim"),
    "pending": ("·", "dim"),
    "running": ("▶", "yellow"),
    "succeeded": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "skipped": ("↷", "dim"),
    "stopped": ("■", "magenta"),
    "timed_out": ("⏱", "bold red"),
    "interrupted": ("!", "magenta"),
}
PREVIEW_CHARS = 300


def status_mark(status: str | None) -> Text:
    icon, style = STATUS_STYLE.get(status or "", ("?", "dim"))
    return Text(icon, style=style)


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the live view -------------------------------------------------------------------------


class NodeProgress:
    """Node statuses and durations folded from engine events (one line per node)."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.status = "queued"

    def update(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Apply an event; returns the node entry it changed, if any."""
        name = event.get("event")
        if name == "execution_started":
            self.status = "running"
            for stage in (event.get("plan") or {}).get("stages", []):
                for node in stage.get("nodes", []):
                    self.nodes.setdefault(str(node["id"]), _entry(node.get("type")))
            return None
        if name == "execution_finished":
            self.status = str(event.get("status"))
            return None
        node = event.get("node")
        if node is None or name not in ("node_started", "node_finished", "node_retry"):
            return None
        entry = self.nodes.setdefault(str(node), _entry(None))
        if name == "node_started":
            entry.update(status="running", started=time.monotonic(), attempt=event.get("attempt"))
        elif name == "node_retry":
            entry.update(status="running", retry=event.get("attempt"))
        else:
            entry.update(status=event.get("status"), duration_ms=event.get("duration_ms"))
            entry["error"] = event.get("error")
        entry["iteration"] = event.get("iteration")
        return entry

    def __rich__(self) -> RenderableType:
        table = Table.grid(padding=(0, 1))
        for node_id, entry in self.nodes.items():
            status = entry["status"]
            mark: RenderableType = (
                Spinner("dots", style="yellow") if status == "running" else status_mark(status)
            )
            table.add_row(mark, Text(node_id, style="bold"), *self._details(entry))
        return table

    def _details(self, entry: dict[str, Any]) -> list[Text]:
        status = entry["status"]
        duration = entry.get("duration_ms")
        if status == "running" and entry.get("started") is not None:
            duration = (time.monotonic() - entry["started"]) * 1000
        extra = ""
        if entry.get("retry"):
            extra = f"retry after attempt {entry['retry']}"
        elif entry.get("error"):
            extra = preview(entry["error"].get("message", ""), 80)
        return [
            Text(status, style=STATUS_STYLE.get(status, ("", "dim"))[1]),
            Text(format_duration(duration), style="dim"),
            Text(extra, style="red" if entry.get("error") else "dim"),
        ]


def _entry(node_type: str | None) -> dict[str, Any]:
    return {"status": "pending", "type": node_type, "duration_ms": None, "error": None}


class ProgressLines:
    """Plain progress lines (piped output): one line per node start and end."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.progress = NodeProgress()

    def update(self, event: dict[str, Any]) -> None:
        self.progress.update(event)
        line = progress_line(event)
        if line:
            print(line, file=self.stream, flush=True)


def progress_line(event: dict[str, Any]) -> str | None:
    name = event.get("event")
    node = event.get("node")
    where = f"{node}" + (f" #{event['iteration']}" if event.get("iteration") else "")
    if name == "node_started":
        attempt = event.get("attempt") or 1
        return f"▶ {where} started" + (f" (attempt {attempt})" if attempt > 1 else "")
    if name == "node_retry":
        return f"↻ {where} attempt {event.get('attempt')} failed; retrying in {event.get('delay')}s"
    if name == "node_finished":
        status = str(event.get("status"))
        line = f"{STATUS_STYLE.get(status, ('?', ''))[0]} {where} {status}"
        line += f" {format_duration(event.get('duration_ms'))}".rstrip()
        error = event.get("error")
        if isinstance(error, dict) and status != "skipped":
            line += f": {error.get('type')}: {preview(error.get('message', ''), 200)}"
        return line
    if name == "execution_finished":
        return (
            f"{STATUS_STYLE.get(str(event.get('status')), ('?', ''))[0]} run {event.get('status')}"
        )
    return None


# -- the finished execution ----------------------------------------------------------------


def execution_tree(tree: dict[str, Any]) -> Tree:
    label = Text.assemble(
        status_mark(tree.get("status")),
        " ",
        (str(tree.get("workflowId")), "bold"),
        (f"  {tree.get('status')}", STATUS_STYLE.get(str(tree.get("status")), ("", ""))[1]),
        (f"  {format_duration(tree.get('durationMs'))}", "dim"),
        (f"  {str(tree.get('id'))[:12]}", "dim"),
    )
    root = Tree(label)
    _add_children(root, tree.get("children") or [])
    outputs = tree.get("outputs")
    if outputs:
        branch = root.add(Text("outputs", style="bold cyan"))
        for key, value in outputs.items():
            branch.add(Text.assemble((f"{key}: ", "cyan"), preview(value)))
    return root


def _add_children(parent: Tree, children: list[dict[str, Any]]) -> None:
    for child in children:
        if child.get("kind") == "stage":
            label = Text.assemble(
                status_mark(child.get("status")),
                " stage ",
                (str(child.get("id")), "bold"),
                (f"  {child.get('status')}", "dim"),
            )
            _add_children(parent.add(label), child.get("children") or [])
        else:
            _add_node(parent, child)


def _add_node(parent: Tree, node: dict[str, Any]) -> None:
    label = Text.assemble(
        status_mark(node.get("status")),
        " ",
        (str(node.get("id")), "bold"),
        (f" ({node.get('type')})" if node.get("type") else "", "dim"),
        (f" #{node['iteration']}" if node.get("iteration") else "", "dim"),
        (f"  {format_duration(node.get('durationMs'))}", "dim"),
        (f"  {node.get('attempts')} attempts" if (node.get("attempts") or 0) > 1 else "", "dim"),
    )
    branch = parent.add(label)
    if node.get("status") == "succeeded" and node.get("output") is not None:
        branch.add(Text.assemble(("output ", "cyan"), preview(node["output"])))
    error = node.get("error")
    if isinstance(error, dict) and node.get("status") not in ("skipped",):
        branch.add(Text(f"{error.get('type')}: {error.get('message')}", style="red"))


def failure_panel(tree: dict[str, Any]) -> Panel | None:
    """The first failed node's error (or the execution's), with traceback and suggestion."""
    if tree.get("status") == "succeeded":
        return None
    node, error = _first_failure(tree.get("children") or [])
    if error is None:
        error, node = tree.get("error"), None
    if not isinstance(error, dict):
        return None
    parts: list[RenderableType] = [
        Text.assemble((f"{error.get('type')}: ", "bold red"), str(error.get("message")))
    ]
    if error.get("traceback"):
        parts.append(Syntax(str(error["traceback"]).rstrip(), "pytb", word_wrap=True))
    if error.get("suggestion"):
        parts.append(Text.assemble(("→ ", "bold yellow"), str(error["suggestion"])))
    title = f"{node} failed" if node else f"run {tree.get('status')}"
    return Panel(Group(*parts), title=title, border_style="red", title_align="left")


def _first_failure(children: list[dict[str, Any]]) -> tuple[str | None, dict[str, Any] | None]:
    for child in children:
        if child.get("kind") == "stage":
            found = _first_failure(child.get("children") or [])
            if found[1] is not None:
                return found
        elif child.get("status") in ("failed", "timed_out") and isinstance(
            child.get("error"), dict
        ):
            return str(child.get("id")), child["error"]
    return None, None


def print_execution(console: Console, tree: dict[str, Any]) -> None:
    console.print(execution_tree(tree))
    panel = failure_panel(tree)
    if panel is not None:
        console.print(panel)
