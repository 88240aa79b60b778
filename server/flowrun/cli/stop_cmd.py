"""`flowrun stop ID`: stop a running execution, also one another flowrun process owns."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from flowrun.cli.store_cmd import ONE_EXECUTION, add_store_command

if TYPE_CHECKING:
    from flowrun.history.store import HistoryStore


def register(subparsers: Any) -> None:
    stop = add_store_command(subparsers, "stop", _stop, ids=ONE_EXECUTION, json=False)
    stop.add_argument(
        "--grace", type=float, default=3.0, metavar="SECONDS", help="SIGKILL after (3)"
    )
    stop.add_argument(
        "--queue", metavar="URL", help="redis://…: stop it on whichever worker holds it"
    )


async def _stop(store: HistoryStore, args: argparse.Namespace) -> int:
    """Stop a running execution.

    Stop a running execution, also one started by another flowrun process (the editor, another
    terminal) on this workspace."""
    from flowrun.runs import stopping

    if args.queue:
        return await _stop_queued(store, args.queue, args.execution)
    outcome = await stopping.stop_execution(store, args.execution, grace=args.grace)
    print(outcome.message, file=sys.stdout if outcome.ok else sys.stderr)
    return 0 if outcome.ok else 1


async def _stop_queued(store: HistoryStore, queue: str, execution_id: str) -> int:
    """Queue mode: revoked while queued, else stopped by the worker that holds it."""
    from flowrun.queue.app import make_app
    from flowrun.queue.control import stop_anywhere

    ok, message = await stop_anywhere(make_app(queue), store, execution_id)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1
