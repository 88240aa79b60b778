"""`flowrun show ID`: one recorded execution, drawn by the same renderer as `flowrun run`,
with each node's input and logs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from flowrun.cli.store_cmd import ONE_EXECUTION, add_store_command, print_json

if TYPE_CHECKING:
    from flowrun.history.store import HistoryStore


def register(subparsers: Any) -> None:
    add_store_command(subparsers, "show", _show, ids=ONE_EXECUTION)


async def _show(store: HistoryStore, args: argparse.Namespace) -> int:
    """Show one execution as a tree.

    Show one execution: stages, nodes, input, output, error and logs. A unique prefix of the id
    is enough."""
    tree = await store.execution_tree(args.execution)
    if args.json:
        print_json(tree)
        return 0
    from rich.console import Console

    from flowrun.cli.render import print_execution

    print_execution(Console(highlight=False), tree, details=True)
    return 0
