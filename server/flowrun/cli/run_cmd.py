"""`flowrun run FILE`: run a workflow in a child process, stream its nodes' logs, show its
progress and its tree (the views are in `run_view`).

Exit codes are `EXIT_CODES`. Heavy modules are imported inside `run_command`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from flowrun.cli.changed_run import add_changed_option, start_changed
from flowrun.cli.command import add_command, add_db
from flowrun.cli.run_options import (
    UsageError,
    parse_inputs,
    parse_timeout,
    parse_trigger,
    positive_int,
    recorded_request,
)

if TYPE_CHECKING:
    import asyncio

    from flowrun.history.store import HistoryStore
    from flowrun.runs.errors import FlowrunError
    from flowrun.runs.service import RunService
    from flowrun.telemetry import Tracing

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PAUSED, EXIT_STOPPED = 0, 1, 2, 3, 130
EXIT_CODES = """\
exit codes:
  0    the run succeeded
  1    the run failed or timed out, or was refused (invalid file, interpreter,
       missing packages or secrets, bad input or trigger)
  2    usage error (an option's value; the file does not exist)
  3    paused (a breakpoint, --pause-on-failure); `flowrun resume ID` goes on
  130  stopped (Ctrl-C)
"""
# A run's start: the new execution's id, from the service (`run`, `resume`).
Start = Callable[["RunService"], Awaitable[str]]


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "run", run_command, exit_codes=EXIT_CODES)
    parser.add_argument("file", type=Path, help="the *.workflow.yml file")
    parser.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input value (repeatable); converted to the input's declared type",
    )
    parser.add_argument(
        "--trigger",
        metavar="FILE|JSON|-",
        help="the trigger request: a JSON object, a file, or - for stdin; default: trigger.sample",
    )
    parser.add_argument(
        "--from-execution",
        metavar="ID",
        help="re-run (in test mode) with the trigger and inputs of a recorded execution, "
        "e.g. a production one; --input and --trigger still win",
    )
    parser.add_argument(
        "--from-node",
        metavar="NODE",
        help="with --from-execution: that execution's outputs are given to the nodes "
        "upstream of NODE, which runs again with everything after it (Run from here)",
    )
    add_changed_option(parser)
    add_pause_options(parser)
    parser.add_argument("--python", metavar="PATH", help="interpreter; default: python3 on PATH")
    parser.add_argument("--timeout", metavar="DURATION", help="execution timeout, e.g. 60s, 5m")
    parser.add_argument(
        "--json",
        action="store_true",
        help='print only the execution tree JSON (a refused run: {"error": ...})',
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no node logs: progress and tree only"
    )
    add_db(parser, help="history database file")
    parser.add_argument(
        "--install-missing",
        action="store_true",
        help="pip install the `requires` packages the interpreter lacks",
    )
    parser.add_argument(
        "--otel",
        action="store_true",
        help="export the run as an OpenTelemetry trace (OTLP/HTTP; OTEL_EXPORTER_OTLP_ENDPOINT, "
        "else http://localhost:4318)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="run every node, even those with `cache:` (and store nothing)",
    )
    parser.add_argument(
        "--max-parallel",
        type=positive_int,
        metavar="N",
        help="nodes running at once, at least 1 (default 16)",
    )


def run_command(args: argparse.Namespace) -> int:
    """Run a workflow locally and show its execution tree.

    Run a workflow file in a child process on your Python interpreter; each node's output is
    streamed as it runs, prefixed by the node id, and the execution is recorded in the history."""
    try:
        inputs: dict[str, Any] | None = parse_inputs(args.input)
        trigger = parse_trigger(args.trigger)
        timeout = parse_timeout(args.timeout)
    except UsageError as exc:
        return _usage_error(args, str(exc))
    if not args.file.is_file():
        return _usage_error(args, f"{args.file}: no such file")
    if args.from_node and not args.from_execution:
        return _usage_error(args, "--from-node needs --from-execution ID")
    if args.changed and args.from_execution:
        return _usage_error(args, "--changed starts from the last success, not --from-execution")
    if getattr(args, "from_execution", None):
        try:
            inputs, trigger = recorded_request(args, inputs, trigger)
        except UsageError as exc:
            return _usage_error(args, str(exc))
    from flowrun.runs.launch import default_python
    from flowrun.runs.prespawn import early_child

    if args.no_cache:
        os.environ["FLOWRUN_NO_CACHE"] = "1"  # the child's environment passes it on
    options = {"timeout": timeout, "max_parallel": args.max_parallel, **pause_options(args)}
    python = args.python or default_python()
    # The engine boots (an interpreter start, asyncio) while this process loads the rest.
    early = None
    if not args.changed:  # a changed run's child gets given outputs the history holds
        early = early_child(args.file, inputs=inputs, trigger=trigger, python=python, **options)
    options["install_missing"] = args.install_missing
    import asyncio

    from flowrun.runs.rerun import rerun_from  # imports asyncio: after the early child

    def start(service: RunService) -> Awaitable[str]:
        if args.changed:
            return start_changed(service, args, inputs, trigger, **options)
        return service.execute(
            args.file,
            inputs=inputs,
            trigger=trigger,
            prespawned=early,
            start=rerun_from(args.from_execution, args.from_node),
            **options,
        )

    try:
        return asyncio.run(run_main(args, start))
    finally:
        if early is not None and not early.adopted:
            early.discard()


def add_pause_options(parser: argparse.ArgumentParser) -> None:
    """`--break-before` and `--pause-on-failure` (`run`, `resume`)."""
    parser.add_argument(
        "--break-before",
        action="append",
        default=[],
        metavar="NODE",
        help="pause before NODE runs (repeatable); the execution ends `paused`, "
        "`flowrun resume ID` goes on",
    )
    parser.add_argument(
        "--pause-on-failure",
        action="store_true",
        help="pause when a node fails instead of failing the run; fix the file, then "
        "`flowrun resume ID` runs the failed node again",
    )


def pause_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"break_before": args.break_before, "pause_on_failure": args.pause_on_failure}


async def run_main(args: argparse.Namespace, start: Start) -> int:
    """Open the history, start the run with `start` and show it until it ends."""
    import asyncio

    from flowrun.cli.run_view import show_install
    from flowrun.runs.errors import FlowrunError
    from flowrun.runs.launch import default_python
    from flowrun.runs.service import RunService

    forward = _Forward()
    store = _StoreWhenOpen(asyncio.ensure_future(open_store(args)))
    python = args.python or default_python()
    service = RunService(
        cast("HistoryStore", store),
        python=python,
        on_event=forward,
        on_install=show_install,
        tracing=_tracing(args.otel),
    )
    _stop_on_signals()
    try:
        return await _run(service, args, start, forward)
    finally:
        with contextlib.suppress(FlowrunError):  # a history that never opened: said already
            await service.shutdown()
        await store.close()


def _tracing(force: bool) -> Tracing | None:
    from flowrun.telemetry import from_environment, wanted

    tracing = from_environment(force)
    if tracing is None and wanted(force):
        print("flowrun run: --otel needs `pip install flowrun[otel]`", file=sys.stderr)
    return tracing


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP (the terminal closed) end the run like Ctrl-C: the run is stopped,
    every process of it ended, and the end recorded, before this process exits."""
    import asyncio
    import signal

    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, main.cancel)


async def open_store(args: argparse.Namespace) -> HistoryStore:
    """The history for `args.file` and `args.db` (`run`, `batch`); its notices printed."""
    import sqlite3

    from flowrun.history.location import HistoryError, history_location
    from flowrun.history.store import HistoryStore

    explicit = args.db.absolute() if isinstance(args.db, Path) else args.db
    path = history_location(args.file, explicit)
    try:
        store = await HistoryStore.open(path)
    except (OSError, sqlite3.Error) as exc:
        raise HistoryError(
            f"Cannot open the execution history {path}: {exc}",
            suggestion="Pass --db with a writable file path.",
        ) from None

    def show(notice: str) -> None:
        print(f"flowrun: {notice}", file=sys.stderr, flush=True)

    for notice in store.notices:
        show(notice)
    store.on_notice(show)  # the history found damaged during the run: said, and it goes on
    return store


class _StoreWhenOpen:
    """The history store while it opens: the engine child boots meanwhile (it spawns
    before the execution is recorded when the file is known to be valid)."""

    def __init__(self, opening: asyncio.Future[HistoryStore]) -> None:
        self._opening = opening

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            store = await self._opening
            return await getattr(store, name)(*args, **kwargs)

        return call

    async def close(self) -> None:
        if not self._opening.done():
            self._opening.cancel()
        with contextlib.suppress(BaseException):
            store = await self._opening
            await store.close()


class _Forward:
    """Engine events for the view, kept until the view exists (built after the spawn, so
    loading Rich does not delay the child)."""

    def __init__(self) -> None:
        self.buffer: list[dict[str, Any]] = []
        self.target: Callable[[str, dict[str, Any]], None] | None = None

    def __call__(self, execution_id: str, event: dict[str, Any]) -> None:
        if self.target is None:
            self.buffer.append(event)
        else:
            self.target(execution_id, event)

    def attach(self, execution_id: str, target: Callable[[str, dict[str, Any]], None]) -> None:
        self.target = target
        for event in self.buffer:
            target(execution_id, event)
        self.buffer.clear()


async def _run(
    service: RunService, args: argparse.Namespace, start: Start, forward: _Forward
) -> int:
    import asyncio

    from flowrun.runs.errors import FlowrunError

    try:
        execution_id = await start(service)
    except FlowrunError as exc:
        print_refused(args, exc)
        return EXIT_FAILED
    except asyncio.CancelledError:
        return EXIT_STOPPED
    from flowrun.cli.run_view import make_view

    view = make_view(args.json, args.quiet)
    forward.attach(execution_id, view.on_event)
    view.start()
    try:
        status = await service.wait(execution_id)
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels us; stop the child
        await service.stop(execution_id)
        status = await service.wait(execution_id)
    finally:
        view.close()
    code = {"succeeded": EXIT_OK, "stopped": EXIT_STOPPED, "paused": EXIT_PAUSED}.get(
        status, EXIT_FAILED
    )
    try:
        tree = await service.store.execution_tree(execution_id)
    except FlowrunError as exc:  # the history is damaged: the run itself is over
        print(f"flowrun run: {exc.message}", file=sys.stderr)
        if exc.suggestion:
            print(f"  {exc.suggestion}", file=sys.stderr)
        return code
    view.finish(tree)
    if status == "paused":
        print(f"flowrun: paused; go on with `flowrun resume {execution_id[:8]}`", file=sys.stderr)
    return code


def _usage_error(args: argparse.Namespace, message: str) -> int:
    print(f"flowrun run: {message}", file=sys.stderr)
    if args.json:
        from flowrun.cli.run_view import print_json

        print_json({"error": {"type": "UsageError", "message": message}})
    return EXIT_USAGE


def print_refused(args: argparse.Namespace, exc: FlowrunError) -> None:
    """The run did not start: diagnostics and the error on stderr; with --json, the error
    object (with the diagnostics) on stdout too."""
    from flowrun.runs.errors import WorkflowInvalid

    diagnostics = exc.diagnostics if isinstance(exc, WorkflowInvalid) else []
    for diagnostic in diagnostics:
        start = diagnostic.range.start
        print(
            f"{args.file}:{start.line + 1}:{start.character + 1}: "
            f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}",
            file=sys.stderr,
        )
    error = exc.error
    print(f"error: {error['type']}: {error['message']}", file=sys.stderr)
    if error.get("suggestion"):
        print(f"  → {error['suggestion']}", file=sys.stderr)
    if args.json:
        from flowrun.cli.run_view import print_json

        if diagnostics:
            error = {**error, "diagnostics": [_diagnostic_json(d) for d in diagnostics]}
        print_json({"error": error})


def _diagnostic_json(diagnostic: Any) -> dict[str, Any]:
    start = diagnostic.range.start
    return {
        "line": start.line + 1,
        "character": start.character + 1,
        "severity": str(diagnostic.severity),
        "code": diagnostic.code,
        "message": diagnostic.message,
    }
