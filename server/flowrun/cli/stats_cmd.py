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
from flowrun.humanize import format_cost, format_duration, format_tokens

if TYPE_CHECKING:
    from flowrun.history.store import HistoryStore

COLUMNS = ("WORKFLOW", "RUNS", "SUCCESS", "P50", "P95", "TOKENS", "COST", "PER RUN")


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
    # One Text in one print: Rich's Table took 60-95 ms for 100 workflows (it measures and
    # wraps every cell; 31-45 ms with Text cells and no_wrap), and a print per footer line
    # 30 ms more, of the command's 200 ms budget (issue 18). This takes 3 ms.
    from rich.console import Console
    from rich.text import Text

    text = Text()
    for line, row in enumerate(_columns([COLUMNS, *map(_row, workflows)])):
        text.append(row + "\n", style="bold" if line == 0 else "")
    for item in workflows:
        costly = [f"{n['id']} {format_cost(n['costUsd'])}" for n in item["costliestNodes"]]
        slow = [f"{n['id']} {format_duration(n['avgDurationMs'])}" for n in item["slowestNodes"]]
        if costly or slow:
            text.append(item["workflowId"], style="bold")
            text.append(f"  costliest: {', '.join(costly)}" if costly else "")
            text.append((f"  slowest (avg): {', '.join(slow)}" if slow else "") + "\n")
    Console(highlight=False).print(text, soft_wrap=True, end="")


def _row(item: Mapping[str, Any]) -> tuple[str, ...]:
    tokens = (item["inputTokens"] or 0) + (item["outputTokens"] or 0)
    return (
        item["workflowId"],
        str(item["executions"]),
        f"{item['successRate']:.0%}",
        format_duration(item["p50DurationMs"], unknown="-"),
        format_duration(item["p95DurationMs"], unknown="-"),
        format_tokens(tokens) if item["llmCalls"] else "-",
        format_cost(item["costUsd"], unknown="-"),
        format_cost(item["costPerRunUsd"], unknown="-"),
    )


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """The rows as lines of columns two spaces apart, the first left-aligned and the rest
    right-aligned, as Rich's borderless Table lays them out."""
    from rich.cells import cell_len

    widths = [max(cell_len(cell) for cell in column) for column in zip(*rows, strict=True)]
    return [
        "  ".join(
            cell + " " * (width - cell_len(cell))
            if i == 0
            else " " * (width - cell_len(cell)) + cell
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
