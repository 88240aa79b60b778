"""`flowrun history`, `flowrun show`, `flowrun diff`, `flowrun stop`: the execution history."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.humanize import format_duration

if TYPE_CHECKING:
    from flowrun.history.store import HistoryStore

STATUSES = ("queued", "running", "succeeded", "failed", "stopped", "timed_out", "interrupted")
STATUS_STYLES = {
    "queued": "dim",
    "running": "cyan",
    "succeeded": "green",
    "failed": "bold red",
    "stopped": "yellow",
    "timed_out": "red",
    "interrupted": "magenta",
    "pending": "dim",
    "skipped": "dim",
}
STATUS_ICONS = {
    "succeeded": "✓",
    "failed": "✗",
    "running": "●",
    "queued": "○",
    "pending": "○",
    "skipped": "⊘",
    "stopped": "■",
    "timed_out": "⏱",
    "interrupted": "!",
}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
LOG_LINES = 20
SHORT_JSON = 200


def register(subparsers: Any) -> None:
    history = subparsers.add_parser(
        "history",
        help="list recorded executions, newest first",
        description="List recorded executions, newest first.",
    )
    history.add_argument(
        "workflow", nargs="?", metavar="WORKFLOW", help="a workflow id or workflow file"
    )
    history.add_argument("--status", choices=STATUSES, help="only executions with this status")
    history.add_argument(
        "--since", metavar="AGE", help="only newer ones: 30m, 2h, 2d, 1w or a date"
    )
    history.add_argument("--limit", type=int, default=20, metavar="N", help="at most N (20)")
    _common(history)
    history.set_defaults(func=lambda args: _run(args, _history))

    show = subparsers.add_parser(
        "show",
        help="show one execution as a tree",
        description="Show one execution: stages, nodes, input, output, error and logs. "
        "A unique prefix of the id is enough.",
    )
    show.add_argument("execution", metavar="EXECUTION_ID")
    _common(show)
    show.set_defaults(func=lambda args: _run(args, _show))

    diff = subparsers.add_parser(
        "diff",
        help="compare two executions node by node",
        description="Compare two executions node by node: status, duration and output.",
    )
    diff.add_argument("a", metavar="ID_A")
    diff.add_argument("b", metavar="ID_B")
    _common(diff)
    diff.set_defaults(func=lambda args: _run(args, _diff))

    stop = subparsers.add_parser(
        "stop",
        help="stop a running execution",
        description="Stop a running execution, also one started by another flowrun process "
        "(the editor, another terminal) on this workspace.",
    )
    stop.add_argument("execution", metavar="EXECUTION_ID")
    stop.add_argument(
        "--grace", type=float, default=3.0, metavar="SECONDS", help="SIGKILL after (3)"
    )
    stop.add_argument("--db", type=Path, metavar="PATH", help="history database")
    stop.set_defaults(func=lambda args: _run(args, _stop))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--db", type=Path, metavar="PATH", help="history database (.flowrun/history.sqlite3)"
    )


Command = Callable[["HistoryStore", argparse.Namespace], Awaitable[int]]


def _run(args: argparse.Namespace, command: Command) -> int:
    import asyncio  # here, not at the top: every `flowrun` command imports this module

    from flowrun.runs.errors import FlowrunError

    try:
        return asyncio.run(_with_store(args, command))
    except FlowrunError as exc:
        _fail(args.command, exc.message, exc.suggestion)
        return 1


async def _with_store(args: argparse.Namespace, command: Command) -> int:
    from flowrun.history.store import HistoryStore, default_db_path
    from flowrun.runs.errors import UnknownExecution

    path: Path = args.db or default_db_path(Path.cwd())
    if not path.exists():
        if args.command == "history":
            _print_json({"executions": []}) if args.json else print(f"No history yet ({path}).")
            return 0
        raise UnknownExecution(
            f"There is no history at {path}.",
            suggestion="Run a workflow first, or pass --db with the history file.",
        )
    store = await HistoryStore.open(path)
    try:
        for notice in store.notices:
            print(f"flowrun: {notice}", file=sys.stderr)
        if args.command != "stop":  # stop handles a dead owner itself (and its processes)
            await store.mark_interrupted()  # runs whose flowrun process died: not "running"
        return await command(store, args)
    finally:
        await store.close()


def _fail(command: str, message: str, suggestion: str | None) -> None:
    print(f"flowrun {command}: {message}", file=sys.stderr)
    if suggestion:
        print(f"  {suggestion}", file=sys.stderr)


# -- history -----------------------------------------------------------------------------


async def _history(store: HistoryStore, args: argparse.Namespace) -> int:
    from flowrun.runs.errors import FlowrunError

    since = parse_since(args.since, time.time()) if args.since else None
    workflow_id, file = _workflow_filter(args.workflow)
    if args.limit < 1:
        raise FlowrunError(f"--limit must be at least 1, not {args.limit}.")
    executions = await store.list_executions(
        workflow_id=workflow_id, file=file, status=args.status, since=since, limit=args.limit
    )
    if args.json:
        _print_json({"executions": executions})
        return 0
    if not executions:
        print("No executions match.")
        return 0
    _print_history(executions, time.time())
    return 0


def parse_since(text: str, now: float) -> float:
    """`30m`, `2h`, `2d`, `1w`, `45s` before `now`, or an ISO date/time (local time)."""
    from flowrun.runs.errors import FlowrunError

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if match:
        return now - float(match.group(1)) * UNITS[match.group(2)]
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise FlowrunError(
            f"--since {text!r} is not an age or a date.",
            suggestion="Use e.g. 30m, 2h, 2d, 1w, or 2026-11-20.",
        ) from None


def _workflow_filter(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    path = Path(value)
    if path.suffix in (".yml", ".yaml") and path.is_file():
        return None, str(path.resolve())
    return value, None


def _print_history(executions: list[dict[str, Any]], now: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("ID", "WORKFLOW", "STATUS", "STARTED", "DURATION", "TRIGGER"):
        table.add_column(column, no_wrap=column != "WORKFLOW")
    for item in executions:
        status = item["status"]
        table.add_row(
            item["id"][:8],
            item["workflowId"],
            f"[{STATUS_STYLES.get(status, '')}]{status}[/]",
            relative_time(_epoch(item["startedAt"]), now),
            _duration(item["durationMs"]),
            item["trigger"],
        )
    Console(highlight=False).print(table)


def _epoch(stamp: str | None) -> float | None:
    from datetime import datetime

    if stamp is None:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def relative_time(t: float | None, now: float) -> str:
    if t is None:
        return "-"
    seconds = max(now - t, 0.0)
    for limit, unit, size in ((60, "s", 1), (3600, "min", 60), (86400, "h", 3600)):
        if seconds < limit:
            return f"{int(seconds // size)} {unit} ago"
    days = int(seconds // 86400)
    return "yesterday" if days == 1 else f"{days} days ago"


def _duration(ms: float | None) -> str:
    return format_duration(ms, unknown="-")


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


# -- show --------------------------------------------------------------------------------


async def _show(store: HistoryStore, args: argparse.Namespace) -> int:
    tree = await store.execution_tree(await store.resolve_id(args.execution))
    if args.json:
        _print_json(tree)
        return 0
    from rich.console import Console

    Console(highlight=False).print(render_tree(tree))
    return 0


def render_tree(tree: dict[str, Any]) -> Any:
    from rich.markup import escape
    from rich.tree import Tree

    status = tree["status"]
    head = (
        f"{_badge(status)} [bold]{escape(tree['workflowId'])}[/] {tree['id'][:8]}  "
        f"{_duration(tree['durationMs'])}  [dim]{tree['startedAt']} · "
        f"{escape(str(tree['file']))}[/]"
    )
    root = Tree(head)
    if tree.get("error"):
        root.add(_error_text(tree["error"]))
    for child in tree["children"]:
        if child["kind"] == "stage":
            label = f"{_badge(child['status'])} stage [bold]{escape(str(child['id']))}[/]"
            if child.get("iterations"):
                label += f" [dim]({child['iterations']} iterations)[/]"
            branch = root.add(label)
            for node in child["children"]:
                _add_node(branch, node)
        else:
            _add_node(root, child)
    if tree.get("outputs"):
        root.add(f"outputs: {escape(_short_json(tree['outputs']))}")
    return root


def _add_node(parent: Any, node: dict[str, Any]) -> None:
    from rich.markup import escape

    label = f"{_badge(node['status'])} [bold]{escape(str(node['id']))}[/]"
    if node.get("type"):
        label += f" [dim]{node['type']}[/]"
    if node.get("iteration"):
        label += f" #{node['iteration']}"
    label += f"  {_duration(node['durationMs'])}"
    if node.get("attempts", 0) > 1:
        label += f" [dim]({node['attempts']} attempts)[/]"
    branch = parent.add(label)
    for key in ("input", "output"):
        if node.get(key) is not None:
            branch.add(f"[dim]{key}:[/] {escape(_short_json(node[key]))}")
    if node.get("error"):
        branch.add(_error_text(node["error"]))
    logs = node.get("logs") or []
    if logs:
        shown = logs[-LOG_LINES:]
        more = f", last {len(shown)}" if len(shown) < len(logs) else ""
        lines = f"{len(logs)} line{'s' if len(logs) != 1 else ''}"
        log_branch = branch.add(f"[dim]logs ({lines}{more}):[/]")
        for entry in shown:
            style = "red" if entry.get("stream") == "stderr" else "dim"
            log_branch.add(f"[{style}]{escape(str(entry.get('text')))}[/]")


def _badge(status: str | None) -> str:
    """A status as Rich markup; `-` where a node is missing from one side of a diff."""
    if status is None:
        return "-"
    text = f"{STATUS_ICONS.get(status, '?')} {status}"
    style = STATUS_STYLES.get(status)
    return f"[{style}]{text}[/]" if style else text


def _error_text(error: Any) -> str:
    from rich.markup import escape

    if not isinstance(error, dict):
        return f"[red]error: {escape(str(error))}[/]"
    text = f"[red]{escape(str(error.get('type')))}: {escape(str(error.get('message')))}[/]"
    if error.get("suggestion"):
        text += f"\n[yellow]{escape(str(error['suggestion']))}[/]"
    return text


def _short_json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= SHORT_JSON else text[: SHORT_JSON - 1] + "…"


# -- diff --------------------------------------------------------------------------------


async def _diff(store: HistoryStore, args: argparse.Namespace) -> int:
    from flowrun.history.diff import diff_trees

    tree_a = await store.execution_tree(await store.resolve_id(args.a))
    tree_b = await store.execution_tree(await store.resolve_id(args.b))
    result = diff_trees(tree_a, tree_b)
    if args.json:
        _print_json(result)
    else:
        _print_diff(result)
    return 0


def _print_diff(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    for side in ("a", "b"):
        info = result[side]
        console.print(
            f"{side.upper()}: {info['id'][:8]} {escape(str(info['workflowId']))} "
            f"{_badge(info['status'])} {_duration(info['durationMs'])} "
            f"[dim]{info['startedAt']}[/]"
        )
    if not result["sameWorkflow"]:
        console.print("[yellow]These executions belong to different workflows.[/]")
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("NODE", "STATUS", "DURATION", "WHAT CHANGED"):
        table.add_column(column)
    for row in result["nodes"]:
        name = row["id"] if row["stage"] is None else f"{row['stage']}/{row['id']}"
        if row["iteration"]:
            name += f" #{row['iteration']}"
        status, duration = row["status"], row["durationMs"]
        status_text = _status_change(status["a"], status["b"])
        duration_text = f"{_duration(duration['a'])} → {_duration(duration['b'])}"
        table.add_row(escape(name), status_text, duration_text, escape(_what_changed(row)))
    console.print(table)
    counts = result["summary"]
    console.print(
        f"{counts['changed']} changed, {counts['added']} added, {counts['removed']} removed, "
        f"{counts['same']} unchanged"
    )
    outputs = result["outputs"]["changes"]
    if outputs:
        console.print("Workflow outputs: " + escape(_changes_text(result["outputs"])))


def _status_change(a: str | None, b: str | None) -> str:
    if a == b:
        return _badge(a)
    return f"{_badge(a)} → {_badge(b)}"


def _what_changed(row: dict[str, Any]) -> str:
    if row["change"] in ("added", "removed"):
        return f"only in {'B' if row['change'] == 'added' else 'A'}"
    parts: list[str] = []
    if row["error"]["a"] != row["error"]["b"]:
        parts.append(f"error: {row['error']['b'] or '(none)'}")
    if row["output"]["changes"]:
        parts.append("output " + _changes_text(row["output"]))
    return "; ".join(parts) or ("" if row["change"] == "same" else "status")


def _changes_text(changes: dict[str, Any]) -> str:
    items = [
        f"{c['path']}: {json.dumps(c['a'], default=str)} → {json.dumps(c['b'], default=str)}"
        for c in changes["changes"][:3]
    ]
    more = len(changes["changes"]) - len(items) + changes["more"]
    return ", ".join(items) + (f" (+{more} more)" if more else "")


# -- stop --------------------------------------------------------------------------------


async def _stop(store: HistoryStore, args: argparse.Namespace) -> int:
    from flowrun.runs import stopping

    execution_id = await store.resolve_id(args.execution)
    outcome = await stopping.stop_execution(store, execution_id, grace=args.grace)
    print(outcome.message, file=sys.stdout if outcome.ok else sys.stderr)
    return 0 if outcome.ok else 1
