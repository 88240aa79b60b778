"""Hot reload: watch the served folders, swap a changed file's route in one assignment.

In-flight executions hold their own `Route` and finish on the version they started with.
An invalid change keeps the last valid version serving (its problems are logged as
`file:line:col`); a change that would take another file's route is refused the same way;
a deleted file's route answers 404 for new requests at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from flowrun.serve.routes import Route, RouteTable, route_of
from flowrun.serve.state import ServeState
from flowrun.validate import validate_file
from flowrun.validate.api import WORKFLOW_SUFFIXES

log = logging.getLogger("flowrun.serve")


def is_workflow(path: str) -> bool:
    return path.endswith(WORKFLOW_SUFFIXES)


def apply_change(state: ServeState, file: Path) -> None:
    """Reload one file into `state.table` (or drop it when it is gone)."""
    table = state.table
    old = table.by_file().get(file)
    if not file.exists():
        if old is not None:
            state.table = table.replaced(file, None)
            log.info("%s: deleted; %s %s is no longer served", file, old.method, old.path)
        return
    result = validate_file(file)
    route, problem = route_of(file, result)
    if problem is not None:
        kept = f"; still serving the last valid version of {old.method} {old.path}" if old else ""
        log.error("%s: not reloaded%s:\n%s", file, kept, "\n".join(problem.lines))
        return
    clash = _conflict(table, file, route)
    if clash is not None:
        assert route is not None
        log.error(
            "%s:%d:1: error[route-conflict]: route `%s %s` is also served by %s:%d; not reloaded",
            file, route.line, route.method, route.path, clash.file, clash.line,
        )  # fmt: skip
        return
    state.table = table.replaced(file, route)
    if route is not None:
        what = "reloaded" if old is not None else "now served"
        log.info("%s: %s at %s %s", file, what, route.method, route.path)
        if route.pinned:
            log.info("%s: pins ignored in production: %s", file, ", ".join(route.pinned))
    elif old is not None:
        log.info("%s: no longer an http workflow; %s %s is not served", file, old.method, old.path)


def _conflict(table: RouteTable, file: Path, route: Route | None) -> Route | None:
    if route is None:
        return None
    for other in table.routes:
        if other.file != file and other.key == route.key:
            return other
    return None


async def watch(state: ServeState, folders: Iterable[Path], stop: asyncio.Event) -> None:
    from watchfiles import awatch

    roots = [str(Path(f)) for f in folders]
    async for changes in awatch(
        *roots, watch_filter=lambda _c, path: is_workflow(path), stop_event=stop
    ):
        for file in sorted({Path(path).resolve() for _change, path in changes}):
            try:
                apply_change(state, file)
            except Exception:
                log.exception("%s: reloading failed; the previous version keeps serving", file)
