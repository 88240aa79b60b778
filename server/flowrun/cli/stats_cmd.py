"""`flowrun stats [WORKFLOW] [--since 7d] [--json]`: how each workflow's runs went and what
they cost (executions, success rate, p50/p95 duration, tokens and cost, costliest and
slowest nodes)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flowrun.cli.history_cmd import add_filters, parse_since, workflow_filter
from flowrun.cli.store_cmd import add_store_command, no_history, print_json

if TYPE_CHECKING:
    from flowrun.history.store import HistoryStore


def register(subparsers: Any) -> None:
    stats = add_store_command(subparsers, "stats", _stats, no_history("workflows"))
    add_filters(stats)


async def _stats(store: HistoryStore, args: argparse.Namespace) -> int:
    """What each workflow's runs cost: tokens, USD, durations, success.

    Per workflow: executions, success rate, p50/p95 duration, tokens and cost in total and per
    run, the costliest and slowest nodes."""
    since = parse_since(args.since, time.time()) if args.since else None
    workflow_id, file = workflow_filter(args.workflow)
    found = await store.workflow_costs(workflow_id=workflow_id, file=file, since=since)
    if args.json:
        print_json({"since": since, "workflows": found})
    elif not found:
        print("No executions match.")
    else:
        _print(found)
    return 0


def _print(workflows: Sequence[Mapping[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from flowrun.humanize import format_cost, format_duration, format_tokens

    console = Console(highlight=False)
    table = Table(box=None, header_style="bold", pad_edge=False)
    columns = ("WORKFLOW", "RUNS", "SUCCESS", "P50", "P95", "TOKENS", "COST", "PER RUN")
    for column in columns:
        table.add_column(column, justify="left" if column == "WORKFLOW" else "right")
    for item in workflows:
        tokens = (item["inputTokens"] or 0) + (item["outputTokens"] or 0)
        table.add_row(
            item["workflowId"],
            str(item["executions"]),
            f"{item['successRate']:.0%}",
            format_duration(item["p50DurationMs"], unknown="-"),
            format_duration(item["p95DurationMs"], unknown="-"),
            format_tokens(tokens) if item["llmCalls"] else "-",
            format_cost(item["costUsd"], unknown="-"),
            format_cost(item["costPerRunUsd"], unknown="-"),
        )
    console.print(table)
    for item in workflows:
        costly = [f"{n['id']} {format_cost(n['costUsd'])}" for n in item["costliestNodes"]]
        slow = [f"{n['id']} {format_duration(n['avgDurationMs'])}" for n in item["slowestNodes"]]
        if costly or slow:
            console.print(f"[bold]{item['workflowId']}[/bold]", end="")
            console.print(f"  costliest: {', '.join(costly)}" if costly else "", end="")
            console.print(f"  slowest (avg): {', '.join(slow)}" if slow else "")
