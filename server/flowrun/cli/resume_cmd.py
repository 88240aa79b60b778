"""`flowrun resume ID`: go on with a paused execution (issue 17) in a new child, shown like
`flowrun run`. The completed nodes are given, the rest runs with the file as it is now; the
completed nodes whose definition changed since the pause are listed first."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.cli.command import add_command, add_db
from flowrun.cli.run_cmd import EXIT_CODES, add_pause_options, pause_options, run_main

if TYPE_CHECKING:
    from flowrun.runs.service import RunService


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "resume", resume_command, exit_codes=EXIT_CODES)
    parser.add_argument("execution", metavar="EXECUTION_ID", help="the paused execution")
    parser.add_argument(
        "--from-node",
        metavar="NODE",
        help="run NODE and everything after it again, even where they completed",
    )
    add_pause_options(parser)
    parser.add_argument("--python", metavar="PATH", help="interpreter; default: python3 on PATH")
    parser.add_argument("--json", action="store_true", help="print only the execution tree JSON")
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no node logs: progress and tree only"
    )
    add_db(parser, help="history database file (default: the workspace's, from the cwd)")


def resume_command(args: argparse.Namespace) -> int:
    """Resume a paused execution.

    Resume a paused execution in a new one (its parent is the paused one): the nodes that
    completed are given their recorded outputs, the others run with the workflow file as it
    is now, with the paused execution's inputs and trigger. Works after any restart: all it
    needs is in the history."""
    import asyncio

    args.file = Path(".")  # the history is the cwd's workspace's, unless --db says
    args.otel, args.max_parallel, args.install_missing = False, None, False

    def start(service: RunService) -> Awaitable[str]:
        return _resume(service, args)

    return asyncio.run(run_main(args, start))


async def _resume(service: RunService, args: argparse.Namespace) -> str:
    from flowrun.runs.resume import checkpoint

    resume = await checkpoint(service.store, args.execution, args.from_node)
    args.file = resume.file  # for a refusal's diagnostics
    execution_id = await service.execute(
        resume.file,
        inputs=resume.inputs,
        trigger=resume.trigger,
        start=resume,
        **pause_options(args),
    )
    if resume.changed:
        names = ", ".join(resume.changed)
        print(
            f"flowrun resume: changed since the pause, their recorded outputs used: {names} "
            f"(--from-node NODE runs a node again)",
            file=sys.stderr,
        )
    return execution_id
