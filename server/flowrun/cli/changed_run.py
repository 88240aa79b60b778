"""`flowrun run FILE --changed` (issue 17): reuse the outputs of the nodes whose definition
did not change since the file's last successful execution, run the rest (`runs.changed`),
and say on stderr which nodes were reused and which run, and why."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowrun.runs.service import RunService


def add_changed_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--changed",
        action="store_true",
        help="reuse the outputs of the nodes unchanged since the file's last successful "
        "execution (with its inputs and trigger unless given); run the changed nodes and "
        "everything downstream of them",
    )


async def start_changed(
    service: RunService,
    args: argparse.Namespace,
    inputs: dict[str, Any] | None,
    trigger: dict[str, Any] | None,
    **options: Any,
) -> str:
    """Start the run with the base's outputs given; the report printed once it started."""
    from flowrun.runs.changed import ChangedRun, last_success
    from flowrun.runs.rerun import request_from

    base = await last_success(service.store, args.file)
    inputs, trigger = request_from(base, inputs, trigger)
    changed = ChangedRun(base)
    execution_id = await service.execute(
        args.file, inputs=inputs, trigger=trigger, start=changed, **options
    )
    print(f"flowrun run --changed: {changed.report()}", file=sys.stderr, flush=True)
    return execution_id
