"""`flowrun worker --queue redis://… --db postgresql://…`: run queued executions."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flowrun.cli.command import add_command, add_db
from flowrun.cli.run_options import positive_int


def register(subparsers: Any) -> None:
    worker = add_command(subparsers, "worker", worker_command)
    worker.add_argument("--queue", required=True, metavar="URL", help="redis://host:6379/0")
    add_db(worker, help="the shared history, postgresql://user@host/db")
    worker.add_argument("--concurrency", type=positive_int, default=1, metavar="N",
                        help="executions at once (1)")  # fmt: skip
    worker.add_argument("--name", metavar="NAME", help="worker name (flowrun@HOST)")
    worker.add_argument("--python", metavar="PATH", help="interpreter of the executions")
    worker.add_argument(
        "--grace", default="30s", metavar="DURATION",
        help="on SIGTERM, how long the executions under way may finish before they are "
        "stopped (30s)",
    )  # fmt: skip


def worker_command(args: argparse.Namespace) -> int:
    """Run queued executions (queue mode).

    A Celery worker: runs the executions `flowrun batch --queue` and `flowrun serve --queue` put
    on the queue, into the shared history."""
    import asyncio

    from flowrun.cli.store_cmd import fail
    from flowrun.history.store import HistoryStore
    from flowrun.queue.worker import WorkerOptions, default_name, serve_forever
    from flowrun.runs.errors import FlowrunError
    from flowrun_engine.durations import parse_duration

    if args.db is None:
        fail("worker", "--db is required (the history every worker shares)", None)
        return 2

    async def check_history() -> None:
        store = await HistoryStore.open(args.db)
        await store.close()

    options = WorkerOptions(
        queue=args.queue, db=str(args.db), name=args.name or default_name(),
        concurrency=args.concurrency, python=args.python,
        grace=float(parse_duration(args.grace)),
    )  # fmt: skip
    try:
        asyncio.run(check_history())
        serve_forever(options)
    except FlowrunError as exc:
        fail("worker", exc.message, exc.suggestion)
        return 1
    print("flowrun worker: stopped", file=sys.stderr)
    return 0
