"""The one Rich renderer of a finished (or recorded) execution, for `flowrun run` and
`flowrun show`: the execution tree (design §7) and the failure panel naming every failed
node. Icons and colours come from `flowrun.status_style`. `details` (show) adds each
node's input and logs and the run's start time and file.

The live view of a running execution is `cli.live` (a terminal) and `cli.progress` (a pipe).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.text import Text
from rich.tree import Tree

from flowrun.history.payloads import human_size
from flowrun.humanize import cost_parts, format_duration
from flowrun.status_style import PINNED, style_of

LOG_LINES = 20
SHORT_JSON = 200
FAILED = ("failed", "timed_out")


def status_mark(status: str | None) -> Text:
    style = style_of(status)
    return Text(style.icon, style=style.color)


def badge(status: str | None) -> Text:
    """`✗ failed` in the status colour; `-` where a node is missing from one side of a diff."""
    if status is None:
        return Text("-")
    style = style_of(status)
    return Text(f"{style.icon} {status}", style=style.color)


def short_json(value: Any, limit: int = SHORT_JSON) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def duration(ms: float | None) -> str:
    return format_duration(ms, unknown="-")


# -- the tree --------------------------------------------------------------------------------


def execution_tree(tree: Mapping[str, Any], *, details: bool = False) -> Tree:
    status = tree.get("status")
    label = Text.assemble(
        status_mark(status),
        " ",
        (str(tree.get("workflowId")), "bold"),
        (f"  {status}", style_of(status).color),
        (f"  {duration(tree.get('durationMs'))}", "dim"),
        (_cost_text(tree), "dim"),
        (_calls_text(tree), "dim"),
        (f"  {str(tree.get('id'))[:8]}", "dim"),
    )
    if tree.get("traceId"):
        label.append(f"  trace {tree['traceId']}", style="dim")
    if details:
        label.append(f"  {tree.get('startedAt')} · {tree.get('file')}", style="dim")
    root = Tree(label)
    _add_children(root, tree.get("children") or [], details)
    outputs = tree.get("outputs")
    if outputs:
        branch = root.add(Text("outputs", style="bold cyan"))
        for key, value in outputs.items():
            branch.add(Text.assemble((f"{key}: ", "cyan"), short_json(value)))
    return root


def _add_children(parent: Tree, children: list[dict[str, Any]], details: bool) -> None:
    for child in children:
        if child.get("kind") != "stage":
            _add_node(parent, child, details)
            continue
        label = Text.assemble(
            status_mark(child.get("status")),
            " stage ",
            (str(child.get("id")), "bold"),
            (f"  {child.get('status')}", "dim"),
            (f" ({child['iterations']} iterations)" if child.get("iterations") else "", "dim"),
        )
        if child.get("error") and not _failed_nodes(child.get("children") or []):
            label.append(f"  {_error_line(child['error'])}", style="red")
        _add_children(parent.add(label), child.get("children") or [], details)


def _add_node(parent: Tree, node: dict[str, Any], details: bool) -> None:
    status = str(node.get("status"))
    pinned = bool(node.get("pinned"))
    attempts = node.get("attempts") or 0
    label = Text.assemble(
        Text(PINNED.icon, style=PINNED.color) if pinned else status_mark(status),
        " ",
        (str(node.get("id")), "bold"),
        (f" ({node.get('type')})" if node.get("type") else "", "dim"),
        (f" #{node['iteration']}" if node.get("iteration") else "", "dim"),
        ("  pinned", PINNED.color) if pinned else "",
        (f"  {status}", style_of(status).color) if status != "succeeded" else "",
        (f"  {format_duration(node.get('durationMs'))}", "dim") if not pinned else "",
        ("  ⚡ cached", "yellow") if node.get("cached") else "",
        (_cost_text(node), "dim"),
        (_http_text(node), "dim"),
        (f"  {attempts} attempts" if attempts > 1 else "", "dim"),
    )
    branch = parent.add(label)
    if details and node.get("input") is not None:
        branch.add(Text.assemble(("input ", "cyan"), short_json(node["input"])))
    if node.get("output") is not None and (details or status == "succeeded"):
        branch.add(Text.assemble(("output ", "cyan"), short_json(node["output"])))
    error = node.get("error")
    if error and status != "skipped":
        branch.add(_error_text(error) if details else Text(_error_line(error), style="red"))
    if details:
        _add_logs(branch, node.get("logs") or [])


def _cost_text(item: Mapping[str, Any]) -> str:
    """`  · 812 tok · $0.0009` after a duration, or nothing."""
    return "".join(f" · {part}" for part in cost_parts(item))


def _calls_text(item: Mapping[str, Any]) -> str:
    calls = item.get("llmCalls")
    return f" · {calls} LLM call{'s' if calls != 1 else ''}" if calls else ""


def _http_text(node: Mapping[str, Any]) -> str:
    metrics = node.get("metrics")
    if not isinstance(metrics, Mapping) or "httpBytes" not in metrics:
        return ""
    size = metrics["httpBytes"]
    return f" · {metrics.get('httpStatus')} · {human_size(size) if isinstance(size, int) else '?'}"


def _add_logs(branch: Tree, logs: list[dict[str, Any]]) -> None:
    if not logs:
        return
    shown = logs[-LOG_LINES:]
    more = f", last {len(shown)}" if len(shown) < len(logs) else ""
    lines = f"{len(logs)} line{'s' if len(logs) != 1 else ''}"
    log_branch = branch.add(Text(f"logs ({lines}{more}):", style="dim"))
    for entry in shown:
        style = "red" if entry.get("stream") == "stderr" else "dim"
        log_branch.add(Text(str(entry.get("text")), style=style))


def _error_line(error: Any) -> str:
    if not isinstance(error, dict):
        return f"error: {error}"
    return f"{error.get('type')}: {error.get('message')}"


def _error_text(error: Any) -> Text:
    text = Text(_error_line(error), style="red")
    if isinstance(error, dict) and error.get("suggestion"):
        text.append(f"\n→ {error['suggestion']}", style="yellow")
    return text


# -- the failure panel ---------------------------------------------------------------------


def failure_panel(tree: Mapping[str, Any]) -> Panel | None:
    """Every failed node's error (or the execution's), with traceback and suggestion."""
    if tree.get("status") == "succeeded":
        return None
    failed = _failed_nodes(tree.get("children") or [])
    if not failed:
        error = tree.get("error")
        if not error:
            return None
        if not isinstance(error, dict):
            error = {"type": "error", "message": str(error)}
        return _panel(f"run {tree.get('status')}", [_error_block(error)])
    blocks = []
    for name, error in failed:
        blocks.append(_error_block(error, name if len(failed) > 1 else None))
    names = ", ".join(name for name, _ in failed)
    title = f"{names} failed" if len(failed) == 1 else f"{len(failed)} nodes failed: {names}"
    return _panel(title, blocks)


def _panel(title: str, blocks: list[list[RenderableType]]) -> Panel:
    parts: list[RenderableType] = []
    for index, block in enumerate(blocks):
        if index:
            parts.append(Rule(style="red"))
        parts.extend(block)
    return Panel(Group(*parts), title=title, border_style="red", title_align="left")


def _error_block(error: dict[str, Any], node: str | None = None) -> list[RenderableType]:
    head = Text(f"{node}: " if node else "", style="bold")
    head.append(f"{error.get('type')}: ", style="bold red").append(str(error.get("message")))
    block: list[RenderableType] = [head]
    if error.get("traceback"):
        block.append(Syntax(str(error["traceback"]).rstrip(), "pytb", word_wrap=True))
    if error.get("suggestion"):
        block.append(Text.assemble(("→ ", "bold yellow"), str(error["suggestion"])))
    return block


def _failed_nodes(children: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for child in children:
        if child.get("kind") == "stage":
            found += _failed_nodes(child.get("children") or [])
        elif child.get("status") in FAILED and isinstance(child.get("error"), dict):
            iteration = f" #{child['iteration']}" if child.get("iteration") else ""
            found.append((f"{child.get('id')}{iteration}", child["error"]))
    return found


def print_execution(console: Console, tree: Mapping[str, Any], *, details: bool = False) -> None:
    console.print(execution_tree(tree, details=details))
    panel = failure_panel(tree)
    if panel is not None:
        console.print(panel)
