"""`flowrun stop ID`: stop a running execution, also one another flowrun process owns."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from flowrun.cli.command import add_db
from flowrun.cli.store_cmd import add_store_command

if TYPE_CHECKING:
    from flowrun.history.store import HistoryStore


def register(subparsers: Any) -> None:
    stop = add_store_command(
        subparsers,
        "stop",
        _stop,
        help="stop a running execution",
        description="Stop a running execution, also one started by another flowrun process "
        "(the editor, another terminal) on this workspace.",
        ids={"execution": "EXECUTION_ID"},
    )
    stop.add_argument(
        "--grace", type=float, default=3.0, metavar="SECONDS", help="SIGKILL after (3)"
    )
    add_db(stop, help="history database")


async def _stop(store: HistoryStore, args: argparse.Namespace) -> int:
    from flowrun.runs import stopping

    outcome = await stopping.stop_execution(store, args.execution, grace=args.grace)
    print(outcome.message, file=sys.stdout if outcome.ok else sys.stderr)
    return 0 if outcome.ok else 1
