"""`flowrun run FILE`: run a workflow in a child process, show its progress and its tree.

Exit codes: 0 succeeded, 1 failed / refused (invalid file, interpreter, packages),
130 stopped (Ctrl-C). Heavy modules are imported inside `run_command`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import asyncio

    from flowrun.history.store import HistoryStore
    from flowrun.runs.errors import FlowrunError
    from flowrun.runs.prespawn import Prespawned
    from flowrun.runs.service import RunService

EXIT_OK, EXIT_FAILED, EXIT_STOPPED = 0, 1, 130


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a workflow locally and show its execution tree",
        description="Run a workflow file in a child process on your Python interpreter; "
        "the execution is recorded in the history.",
    )
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
        "--trigger", metavar="FILE|JSON", help="the trigger request; default: trigger.sample"
    )
    parser.add_argument("--python", metavar="PATH", help="interpreter; default: python3 on PATH")
    parser.add_argument("--timeout", metavar="DURATION", help="execution timeout, e.g. 60s, 5m")
    parser.add_argument("--json", action="store_true", help="print only the execution tree JSON")
    parser.add_argument("--db", type=Path, metavar="PATH", help="history database file")
    parser.add_argument(
        "--install-missing",
        action="store_true",
        help="pip install the `requires` packages the interpreter lacks",
    )
    parser.add_argument(
        "--max-parallel", type=int, metavar="N", help="nodes running at once (default 16)"
    )
    parser.set_defaults(func=run_command)


class UsageError(Exception):
    pass


def parse_inputs(items: list[str]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--input {item!r}: expected NAME=VALUE, e.g. --input style=short")
        inputs[name.strip()] = raw  # resolve() converts text to the declared type
    return inputs


def parse_trigger(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    text = value
    path = Path(value)
    if not value.lstrip().startswith("{") and path.is_file():
        text = path.read_text(encoding="utf-8")
    try:
        trigger = json.loads(text)
    except ValueError as exc:
        where = f"file {path}" if text is not value else "--trigger"
        raise UsageError(
            f"{where} is not JSON ({exc}); give a JSON object such as "
            '\'{"body": {"text": "hi"}}\' or a file containing one'
        ) from None
    if not isinstance(trigger, dict):
        raise UsageError("--trigger must be a JSON object (method, path, headers, query, body)")
    return trigger


def parse_timeout(value: str | None) -> float | None:
    if value is None:
        return None
    from flowrun_engine.durations import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"--timeout {value!r}: {exc}") from None


def run_command(args: argparse.Namespace) -> int:
    try:
        inputs = parse_inputs(args.input)
        trigger = parse_trigger(args.trigger)
        timeout = parse_timeout(args.timeout)
    except UsageError as exc:
        print(f"flowrun run: {exc}", file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(f"flowrun run: {args.file}: no such file", file=sys.stderr)
        return 2
    from flowrun.runs.launch import default_python
    from flowrun.runs.prespawn import early_child

    # The engine boots (an interpreter start, asyncio) while this process loads the rest.
    early = early_child(
        args.file,
        inputs=inputs,
        trigger=trigger,
        python=args.python or default_python(),
        timeout=timeout,
        max_parallel=args.max_parallel,
    )
    import asyncio

    try:
        return asyncio.run(_main(args, inputs, trigger, timeout, early))
    finally:
        if early is not None and not early.adopted:
            early.discard()


async def _main(
    args: argparse.Namespace,
    inputs: dict[str, Any],
    trigger: dict[str, Any] | None,
    timeout: float | None,
    early: Prespawned | None = None,
) -> int:
    import asyncio

    from flowrun.runs.errors import FlowrunError
    from flowrun.runs.launch import default_python
    from flowrun.runs.service import RunService

    forward = _Forward()
    store = _StoreWhenOpen(asyncio.ensure_future(_open_store(args)))
    python = args.python or default_python()
    service = RunService(cast("HistoryStore", store), python=python, on_event=forward)
    try:
        return await _run(service, args, inputs, trigger, timeout, forward, early)
    finally:
        with contextlib.suppress(FlowrunError):  # a history that never opened: said already
            await service.shutdown()
        await store.close()


async def _open_store(args: argparse.Namespace) -> HistoryStore:
    import sqlite3

    from flowrun.history.store import HistoryError, HistoryStore, default_db_path

    path = args.db or default_db_path(args.file.resolve().parent)
    try:
        return await HistoryStore.open(path)
    except (OSError, sqlite3.Error) as exc:
        raise HistoryError(
            f"Cannot open the execution history {path}: {exc}",
            suggestion="Pass --db with a writable file path.",
        ) from None


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
    service: RunService,
    args: argparse.Namespace,
    inputs: dict[str, Any],
    trigger: dict[str, Any] | None,
    timeout: float | None,
    forward: _Forward,
    early: Prespawned | None = None,
) -> int:
    import asyncio

    from flowrun.runs.errors import FlowrunError, WorkflowInvalid

    try:
        execution_id = await service.execute(
            args.file,
            inputs=inputs,
            trigger=trigger,
            timeout=timeout,
            install_missing=args.install_missing,
            max_parallel=args.max_parallel,
            prespawned=early,
        )
    except WorkflowInvalid as exc:
        _print_diagnostics(args.file, exc)
        return EXIT_FAILED
    except FlowrunError as exc:
        _print_error(exc)
        return EXIT_FAILED
    except asyncio.CancelledError:
        return EXIT_STOPPED
    view = _make_view(args.json)
    forward.attach(execution_id, view.on_event)
    view.start()
    try:
        status = await service.wait(execution_id)
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels us; stop the child
        await service.stop(execution_id)
        status = await service.wait(execution_id)
    finally:
        view.close()
    tree = await service.store.execution_tree(execution_id)
    view.finish(tree)
    return {"succeeded": EXIT_OK, "stopped": EXIT_STOPPED}.get(status, EXIT_FAILED)


def _print_diagnostics(file: Path, exc: FlowrunError) -> None:
    for diagnostic in getattr(exc, "diagnostics", []):
        start = diagnostic.range.start
        print(
            f"{file}:{start.line + 1}:{start.character + 1}: "
            f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}",
            file=sys.stderr,
        )
    _print_error(exc)


def _print_error(exc: FlowrunError) -> None:
    error = exc.error
    print(f"error: {error['type']}: {error['message']}", file=sys.stderr)
    if error.get("suggestion"):
        print(f"  → {error['suggestion']}", file=sys.stderr)


# -- output ---------------------------------------------------------------------------------


class _View:
    """--json: nothing but the tree; piped: plain progress lines; TTY: a Rich live view."""

    def __init__(self) -> None:
        self._live: Any = None
        self._progress: Any = None

    def on_event(self, execution_id: str, event: dict[str, Any]) -> None:
        pass

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def finish(self, tree: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(tree, indent=2, ensure_ascii=False) + "\n")


class _PlainView(_View):
    def __init__(self) -> None:
        super().__init__()
        from flowrun.cli.render import ProgressLines

        self.lines = ProgressLines(sys.stderr)

    def on_event(self, execution_id: str, event: dict[str, Any]) -> None:
        self.lines.update(event)

    def finish(self, tree: dict[str, Any]) -> None:
        from rich.console import Console

        from flowrun.cli.render import print_execution

        print_execution(Console(), tree)


class _LiveView(_PlainView):
    def __init__(self) -> None:
        super().__init__()
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.live = Live(
            self.lines.progress, console=self.console, refresh_per_second=8, transient=True
        )

    def on_event(self, execution_id: str, event: dict[str, Any]) -> None:
        self.lines.progress.update(event)

    def start(self) -> None:
        self.live.start()

    def close(self) -> None:
        self.live.stop()


def _make_view(as_json: bool) -> _View:
    if as_json:
        return _View()
    if sys.stderr.isatty():
        return _LiveView()
    return _PlainView()
