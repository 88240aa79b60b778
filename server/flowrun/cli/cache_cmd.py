"""`flowrun cache clear [WORKFLOW]`: forget the stored results of `cache:` nodes
(`.flowrun/cache/` of the workspace), of one workflow or of all."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from flowrun.cli.command import add_command


def register(subparsers: Any) -> None:
    cache = subparsers.add_parser(
        "cache",
        help="the results stored by nodes with `cache:`",
        description="The results stored by `llm`, `http` and `python` nodes with `cache:`.",
    )
    actions = cache.add_subparsers(dest="action", metavar="ACTION", required=True)
    clear = add_command(actions, "clear", _clear)
    clear.add_argument("workflow", nargs="?", metavar="WORKFLOW", help="a workflow id or file")


def _clear(args: argparse.Namespace) -> int:
    """Forget stored results (of one workflow, or all).

    Forget the stored results of one workflow (id or file), or of all."""
    from flowrun.cli.workflow_arg import workflow_id
    from flowrun_engine.cache import folder_for
    from flowrun_engine.workspace_root import find_root

    workflow = workflow_id(args.workflow) if args.workflow else None
    if args.workflow and workflow is None:
        print(f"flowrun cache clear: {args.workflow} is not a workflow file", file=sys.stderr)
        return 1
    start = Path(args.workflow).parent if workflow and Path(args.workflow).is_file() else Path()
    folder = Path(folder_for(find_root(str(start.resolve())), workflow))
    count = sum(1 for _ in folder.rglob("*.json")) if folder.is_dir() else 0
    if folder.is_dir():
        shutil.rmtree(folder)
    what = f"workflow {workflow}" if workflow else "all workflows"
    print(f"Removed {count} cached result{'s' if count != 1 else ''} of {what} ({folder}).")
    return 0
