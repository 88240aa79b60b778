"""What the history commands share (`history`, `show`, `diff`, `stop`, `list`): their
common options and opening the workspace's history around a command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.cli.command import add_command, add_db

if TYPE_CHECKING:
    from flowrun.history.store import HistoryStore

Command = Callable[["HistoryStore", argparse.Namespace], Awaitable[int]]
# what a command prints when the workspace has no history file yet; None: an error
NoHistory = Callable[[argparse.Namespace, Path], int] | None
ONE_EXECUTION = {"execution": "EXECUTION_ID"}  # `ids` of a command on one execution


def add_store_command(
    subparsers: Any,
    name: str,
    command: Command,
    no_history: NoHistory = None,
    *,
    ids: Mapping[str, str] | None = None,
    json: bool = True,
) -> argparse.ArgumentParser:
    """`flowrun NAME` (`add_command`), running `command` with the workspace's history open
    (`--db`), described by `command`'s docstring. `ids`: the positional arguments (dest →
    metavar) that name an execution by a unique prefix of its id; `command` finds them
    resolved to full ids. `json`: a `--json` flag."""
    ids = dict(ids or {})
    parser = add_command(
        subparsers,
        name,
        lambda args: run_with_store(args, command, no_history, ids),
        doc=command.__doc__,
    )
    for dest, metavar in ids.items():
        parser.add_argument(dest, metavar=metavar)
    if json:
        common_options(parser)
    else:
        add_db(parser)
    return parser


def common_options(parser: argparse.ArgumentParser) -> None:
    """`--json` and `--db`."""
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_db(parser)


def no_history(key: str) -> NoHistory:
    """A listing's answer before the first run: an empty list under `key` with --json."""

    def answer(args: argparse.Namespace, path: Path) -> int:
        print_json({key: []}) if args.json else print(f"No history yet ({path}).")
        return 0

    return answer


def run_with_store(
    args: argparse.Namespace,
    command: Command,
    no_history: NoHistory = None,
    ids: Iterable[str] = (),
) -> int:
    import asyncio  # here, not at the top: every `flowrun` command imports this module

    from flowrun.runs.errors import FlowrunError

    try:
        return asyncio.run(_with_store(args, command, no_history, ids))
    except FlowrunError as exc:
        fail(args.command, exc.message, exc.suggestion)
        return 1


async def _with_store(
    args: argparse.Namespace, command: Command, no_history: NoHistory, ids: Iterable[str]
) -> int:
    from flowrun.history.location import history_location
    from flowrun.history.store import HistoryStore
    from flowrun.runs.errors import UnknownExecution

    path = history_location(Path.cwd(), args.db)
    if isinstance(path, Path) and not path.exists():
        if no_history is not None:
            return no_history(args, path)
        raise UnknownExecution(
            f"There is no history at {path}.",
            suggestion="Run a workflow first, or pass --db with the history file.",
        )
    store = await HistoryStore.open(path)
    try:
        for notice in store.notices:
            print(f"flowrun: {notice}", file=sys.stderr)
        if args.command != "stop":  # stop handles a dead owner itself (and its processes)
            await store.mark_interrupted()  # runs whose flowrun process died: not "running"
        for dest in ids:
            setattr(args, dest, await store.resolve_id(getattr(args, dest)))
        return await command(store, args)
    finally:
        await store.close()


def fail(command: str, message: str, suggestion: str | None) -> None:
    print(f"flowrun {command}: {message}", file=sys.stderr)
    if suggestion:
        print(f"  {suggestion}", file=sys.stderr)


def print_json(value: Any) -> None:
    """One write: json.dump to stdout writes each token apart (20,000 writes for stats)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
