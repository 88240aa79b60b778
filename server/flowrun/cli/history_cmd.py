"""`flowrun history`: recorded executions, newest first."""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.cli.store_cmd import add_store_command, no_history, print_json
from flowrun.status import ExecutionStatus

if TYPE_CHECKING:
    from flowrun.history.store import HistoryStore

STATUSES = tuple(str(status) for status in ExecutionStatus)
MODES = ("test", "production", "batch")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def register(subparsers: Any) -> None:
    history = add_store_command(subparsers, "history", _history, no_history("executions"))
    add_filters(history)
    history.add_argument("--status", choices=STATUSES, help="only executions with this status")
    history.add_argument(
        "--mode", choices=MODES, help="only executions of this mode (test, production, batch)"
    )
    history.add_argument("--limit", type=int, default=20, metavar="N", help="at most N (20)")


def add_filters(parser: argparse.ArgumentParser) -> None:
    """`WORKFLOW` and `--since`: read with `workflow_filter` and `parse_since`."""
    parser.add_argument(
        "workflow", nargs="?", metavar="WORKFLOW", help="a workflow id or workflow file"
    )
    parser.add_argument("--since", metavar="AGE", help="only newer runs: 30m, 2h, 2d, 1w or a date")


async def _history(store: HistoryStore, args: argparse.Namespace) -> int:
    """List recorded executions, newest first.

    List recorded executions, newest first."""
    from flowrun.runs.errors import FlowrunError

    since = parse_since(args.since, time.time()) if args.since else None
    workflow_id, file = workflow_filter(args.workflow)
    if args.limit < 1:
        raise FlowrunError(f"--limit must be at least 1, not {args.limit}.")
    executions = await store.list_executions(
        workflow_id=workflow_id,
        file=file,
        status=args.status,
        since=since,
        limit=args.limit,
        mode=args.mode,
    )
    if args.json:
        print_json({"executions": executions})
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


def workflow_filter(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    path = Path(value)
    if path.suffix in (".yml", ".yaml") and path.is_file():
        return None, str(path.resolve())
    return value, None


def _print_history(executions: Sequence[Mapping[str, Any]], now: float) -> None:
    from rich.console import Console
    from rich.table import Table

    from flowrun.cli.render import badge, duration
    from flowrun.humanize import cost_parts

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("ID", "WORKFLOW", "STATUS", "MODE", "STARTED", "DURATION", "COST", "TRIGGER"):
        table.add_column(column, no_wrap=column != "WORKFLOW")
    for item in executions:
        table.add_row(
            item["id"][:8],
            item["workflowId"],
            badge(item["status"]),
            item.get("mode") or "test",
            relative_time(epoch(item["startedAt"]), now),
            duration(item["durationMs"]),
            " · ".join(cost_parts(item)) or "-",
            item["trigger"],
        )
    Console(highlight=False).print(table)


def epoch(stamp: str | None) -> float | None:
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
