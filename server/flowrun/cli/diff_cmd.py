"""`flowrun diff A B`: two executions compared node by node (status, duration, output) and
what each cost (tokens, USD)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from flowrun.cli.store_cmd import add_store_command, print_json

if TYPE_CHECKING:
    from rich.text import Text

    from flowrun.history.store import HistoryStore


def register(subparsers: Any) -> None:
    add_store_command(subparsers, "diff", _diff, ids={"a": "ID_A", "b": "ID_B"})


async def _diff(store: HistoryStore, args: argparse.Namespace) -> int:
    """Compare two executions node by node.

    Compare two executions node by node: status, duration and output."""
    from flowrun.history.diff import diff_trees

    tree_a = await store.execution_tree(args.a)
    tree_b = await store.execution_tree(args.b)
    result = diff_trees(tree_a, tree_b)
    if args.json:
        print_json(result)
    else:
        _print_diff(result)
    return 0


def _print_diff(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from flowrun.cli.render import badge, duration

    console = Console(highlight=False)
    for side in ("a", "b"):
        info = result[side]
        console.print(
            Text.assemble(
                f"{side.upper()}: {info['id'][:8]} {info['workflowId']} ",
                badge(info["status"]),
                f" {duration(info['durationMs'])} ",
                (str(info["startedAt"]), "dim"),
            )
        )
    if cost := cost_text(result["cost"]):
        console.print(f"Cost: {cost}")
    if not result["sameWorkflow"]:
        console.print(Text("These executions belong to different workflows.", style="yellow"))
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("NODE", "STATUS", "DURATION", "WHAT CHANGED"):
        table.add_column(column)
    for row in result["nodes"]:
        name = row["id"] if row["stage"] is None else f"{row['stage']}/{row['id']}"
        if row["iteration"]:
            name += f" #{row['iteration']}"
        status, took = row["status"], row["durationMs"]
        duration_text = f"{duration(took['a'])} → {duration(took['b'])}"
        table.add_row(
            Text(name), _status_change(status["a"], status["b"]), duration_text,
            Text(_what_changed(row)),
        )  # fmt: skip
    console.print(table)
    counts = result["summary"]
    console.print(
        f"{counts['changed']} changed, {counts['added']} added, {counts['removed']} removed, "
        f"{counts['same']} unchanged"
    )
    if result["outputs"]["changes"]:
        console.print(Text("Workflow outputs: " + _changes_text(result["outputs"])))


def _status_change(a: str | None, b: str | None) -> Text:
    from rich.text import Text

    from flowrun.cli.render import badge

    if a == b:
        return badge(a)
    return Text.assemble(badge(a), " → ", badge(b))


def _what_changed(row: dict[str, Any]) -> str:
    if row["change"] in ("added", "removed"):
        return f"only in {'B' if row['change'] == 'added' else 'A'}"
    parts: list[str] = []
    if row["error"]["a"] != row["error"]["b"]:
        parts.append(f"error: {row['error']['b'] or '(none)'}")
    if row["output"]["changes"]:
        parts.append("output " + _changes_text(row["output"]))
    if cost := cost_text(row["cost"]):
        parts.append(cost)
    return "; ".join(parts) or ("" if row["change"] == "same" else "status")


def cost_text(change: dict[str, Any]) -> str:
    """`812 tok → 640 tok (-172) · $0.0009 → $0.0007 (-$0.0002)`; empty when nothing differs."""
    from flowrun.humanize import format_cost, format_tokens

    tokens, usd = change["tokens"], change["costUsd"]
    if tokens["a"] == tokens["b"] and usd["a"] == usd["b"]:
        return ""
    parts = [f"{format_tokens(tokens['a']) or '-'} → {format_tokens(tokens['b']) or '-'}"]
    if tokens["delta"] is not None:
        parts[0] += f" ({tokens['delta']:+d})"
    if usd["a"] is not None or usd["b"] is not None:
        cost = f"{format_cost(usd['a'], unknown='-')} → {format_cost(usd['b'], unknown='-')}"
        if usd["delta"]:
            sign = "+" if usd["delta"] > 0 else "-"
            cost += f" ({sign}{format_cost(abs(usd['delta']))})"
        parts.append(cost)
    return " · ".join(parts)


def _changes_text(changes: dict[str, Any]) -> str:
    items = [
        f"{c['path']}: {json.dumps(c['a'], default=str)} → {json.dumps(c['b'], default=str)}"
        for c in changes["changes"][:3]
    ]
    more = len(changes["changes"]) - len(items) + changes["more"]
    return ", ".join(items) + (f" (+{more} more)" if more else "")
