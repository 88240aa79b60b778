"""`flowrun batch FILE --inputs rows.jsonl|rows.csv`: one execution per row (mode `batch`),
results in input order (`--out`, else stdout as JSON Lines), exit 1 if any row failed, Ctrl-C
stops every execution."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from flowrun.cli.command import add_command, add_db
from flowrun.cli.run_options import UsageError, parse_timeout, positive_int

if TYPE_CHECKING:
    import asyncio

    from flowrun.batch.progress import BatchProgress
    from flowrun.batch.results import RowResult
    from flowrun.history.store import HistoryStore


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    batch = add_command(subparsers, "batch", batch_command)
    batch.add_argument("file", type=Path, help="the *.workflow.yml file")
    batch.add_argument(
        "--inputs", type=Path, required=True, metavar="ROWS",
        help="rows.jsonl (one JSON object per line) or rows.csv (a header names the inputs)",
    )  # fmt: skip
    batch.add_argument(
        "--max-concurrent", type=positive_int, metavar="N", default=os.cpu_count() or 2,
        help="executions at once (default: the number of CPUs)",
    )  # fmt: skip
    batch.add_argument("--out", type=Path, metavar="FILE", help="results.jsonl (default stdout)")
    batch.add_argument("--python", metavar="PATH", help="interpreter; default: python3 on PATH")
    batch.add_argument("--timeout", metavar="DURATION", help="timeout of each execution")
    batch.add_argument("--queue", metavar="URL", help="redis://…: run on `flowrun worker`s")
    add_db(batch)
    batch.set_defaults(json=False)


def batch_command(args: argparse.Namespace) -> int:
    """Run a workflow once per input row."""
    from flowrun.batch.rows import read_rows
    from flowrun.cli.store_cmd import fail
    from flowrun.runs.errors import FlowrunError

    try:
        timeout = parse_timeout(args.timeout)
        if not args.file.is_file():
            raise UsageError(f"{args.file}: no such file")
        if args.queue and args.db is None:
            raise UsageError("--queue needs --db: the history the workers share")
    except UsageError as exc:
        fail("batch", str(exc), None)
        return 2
    import asyncio

    try:
        rows = read_rows(args.inputs)
        results = asyncio.run(_main(args, rows, timeout))
    except FlowrunError as exc:
        from flowrun.cli.run_cmd import print_refused

        print_refused(args, exc)
        return 1
    if results is None:
        return 130
    return 0 if all(r["status"] == "succeeded" for r in results) else 1


async def _main(
    args: argparse.Namespace, rows: list[dict[str, object]], timeout: float | None
) -> list[RowResult] | None:
    import asyncio

    from rich.console import Console

    from flowrun.batch.local import run_local
    from flowrun.batch.progress import BatchProgress
    from flowrun.cli.run_cmd import open_store
    from flowrun.runs.launch import default_python

    store = await open_store(args)
    console = Console(stderr=True)
    progress = BatchProgress(len(rows), console)
    main = asyncio.current_task()
    assert main is not None
    _cancel_on_signals(main)
    try:
        with progress.bar:
            if args.queue:
                results = await _queued(args, store, rows, timeout, progress)
            else:
                results = await run_local(
                    store, args.file.resolve(), rows, max_concurrent=args.max_concurrent,
                    python=args.python or default_python(), timeout=timeout,
                    on_progress=progress.update,
                )  # fmt: skip
    except asyncio.CancelledError:
        console.print(f"flowrun batch: stopped ({progress.summary()})")
        return None
    finally:
        await store.close()
    console.print(progress.summary())
    _write(args.out, results)
    return results


async def _queued(
    args: argparse.Namespace,
    store: HistoryStore,
    rows: list[dict[str, object]],
    timeout: float | None,
    progress: BatchProgress,
) -> list[RowResult]:
    import asyncio

    from flowrun.batch.queued import run_queued
    from flowrun.queue.app import check_broker, make_app
    from flowrun.runs.errors import WorkflowInvalid
    from flowrun.validate import validate_file

    path = args.file.resolve()
    checked = validate_file(path)
    if checked.has_errors or checked.workflow is None:
        raise WorkflowInvalid([d for d in checked.diagnostics if d.severity == "error"])
    app = make_app(args.queue)
    await asyncio.to_thread(check_broker, app, args.queue)
    return await run_queued(
        app, store, path, checked.workflow, rows, timeout=timeout, on_progress=progress.update
    )


def _write(out: Path | None, results: list[RowResult]) -> None:
    from flowrun.batch.results import write_results

    if out is None:
        write_results(sys.stdout, results)
        return
    with out.open("w", encoding="utf-8") as stream:
        write_results(stream, results)


def _cancel_on_signals(main: asyncio.Task[object]) -> None:
    """Ctrl-C, SIGTERM, SIGHUP: every execution of the batch stopped and recorded first."""
    import asyncio
    import signal

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, main.cancel)
