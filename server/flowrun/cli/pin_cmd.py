"""`flowrun pin EXECUTION_ID NODE` and `flowrun unpin FILE NODE`: the pin files of issue 17
from the command line, written and removed as the Executions view's Pin output and Unpin do
(`runs.pin_source`, `runs.pins`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.cli.command import add_command
from flowrun.cli.store_cmd import ONE_EXECUTION, add_store_command, fail

if TYPE_CHECKING:
    from flowrun.history.store import HistoryStore


def register(subparsers: Any) -> None:
    pin = add_store_command(subparsers, "pin", _pin, ids=ONE_EXECUTION, json=False)
    pin.add_argument("node", metavar="NODE", help="the node whose output to pin")
    unpin = add_command(subparsers, "unpin", _unpin)
    unpin.add_argument("file", type=Path, metavar="FILE", help="the workflow file")
    unpin.add_argument("node", metavar="NODE", help="the pinned node")


async def _pin(store: HistoryStore, args: argparse.Namespace) -> int:
    """Pin a node's output of an execution for test runs.

    Write .flowrun/pins/<workflow-id>/<node>.json from the node's output in that execution (a
    unique prefix of its id is enough): test-mode runs give the node this output instead of
    running it, until `flowrun unpin`. The file is meant to be reviewed and committed."""
    from flowrun.runs.pin_source import pin_source

    source = await pin_source(store, args.execution, args.node)
    if source is None:
        fail(
            "pin",
            f"`{args.node}` has no output in execution {args.execution[:8]}",
            "Pin a node that succeeded there (`flowrun show ID` lists them).",
        )
        return 1
    try:
        path = await source.write(store)
    except OSError as exc:  # the pins folder cannot be written: said, not a traceback
        fail("pin", f"could not write the pin file: {exc}", None)
        return 1
    print(f"Pinned the output of {args.node} from execution {args.execution[:8]}: {path}")
    return 0


def _unpin(args: argparse.Namespace) -> int:
    """Remove a node's pin file.

    Remove .flowrun/pins/<workflow-id>/<node>.json of the workflow FILE: test-mode runs run
    the node again."""
    import re

    from flowrun.cli.workflow_arg import workflow_id
    from flowrun.runs.pins import pin_path, remove_pin
    from flowrun.spec.checks import NODE_ID_PATTERN

    if not re.match(NODE_ID_PATTERN, args.node):  # `../x` would name a file outside the pins
        fail("unpin", f"`{args.node}` is not a node id", None)
        return 1
    file: Path = args.file.resolve()
    workflow = workflow_id(str(file)) if file.suffix in (".yml", ".yaml") else None
    if workflow is None:
        fail("unpin", f"{args.file} is not a workflow file", None)
        return 1
    path = pin_path(file, workflow, args.node)
    try:
        removed = remove_pin(file, workflow, args.node)
    except OSError as exc:
        fail("unpin", f"could not remove {path}: {exc.strerror}", None)
        return 1
    if removed:
        print(f"Unpinned {args.node}: removed {path}")
    else:
        print(f"{args.node} has no pin file ({path}).")
    return 0
