"""The server's side of the editor's debugger (issue 17): `flowrun/debugState`,
`flowrun/evaluate`, `flowrun/breakpointLocations` and `flowrun/setBreakpoints`.

Breakpoints, conditions, logpoints and steps travel with `flowrun/execute` and
`flowrun/resume` (`PauseOptions`, `lsp/runs.py`); `flowrun/setBreakpoints` replaces a running
execution's breakpoints (its nodes not started yet pause by the new ones); a paused execution
is inspected here from the history alone (`runs.debug_state`), so it works after the daemon
restarted.

A gutter breakpoint belongs to the node whose lines hold it and is verified on that node's
first line; a line between two nodes (or stage headers) moves to the next node; a line
before the first node's block or after the last node has none.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from flowrun.lsp import debug_protocol as dp
from flowrun.lsp import protocol as p
from flowrun.lsp.outline import Outline
from flowrun.lsp.runs import resolve
from flowrun.lsp.server import FlowrunServer
from flowrun.lsp.services import services
from flowrun.lsp.uris import path_to_uri
from flowrun.runs.debug_state import DebugState, debug_state, display
from flowrun_engine import expr


def setup(server: FlowrunServer) -> None:
    @server.feature(p.DEBUG_STATE)
    async def state(params: Any) -> dict[str, Any]:
        ref = p.parse(p.ExecutionRef, params)
        found = await _state(server, ref.execution_id)
        return dp.DebugStateResult.model_validate(found, from_attributes=True).wire()

    @server.feature(p.EVALUATE)
    async def evaluate(params: Any) -> dict[str, Any]:
        args = p.parse(dp.EvaluateParams, params)
        found = await _state(server, args.execution_id)
        try:
            value = found.evaluate(args.expression, args.node_id)
        except (expr.ExprSyntaxError, expr.ExprEvalError) as exc:
            raise p.flowrun_error({"type": "ExpressionError", "message": str(exc)}) from None
        return dp.EvaluateResult(value=value, display=display(value)).wire()

    @server.feature(p.BREAKPOINT_LOCATIONS)
    async def locations(params: Any) -> dict[str, Any]:
        args = p.parse(dp.BreakpointLocationsParams, params)
        outline = await server.outline(args.uri)
        lines = (server.document_text(args.uri) or "").splitlines()
        locate = _locator(outline, lines)
        found = [locate(line) for line in args.lines]
        return dp.BreakpointLocationsResult(locations=found).wire()

    @server.feature(p.SET_BREAKPOINTS)
    async def set_breakpoints(params: Any) -> dict[str, Any]:
        args = p.parse(dp.SetBreakpointsParams, params)
        full_id = await resolve(server, args.execution_id)
        points = [point.model_dump() for point in args.breakpoints]
        applied = await (await services(server)).runs.set_breakpoints(full_id, points)
        return dp.SetBreakpointsResult(applied=applied).wire()


async def _state(server: FlowrunServer, execution_id: str) -> DebugState:
    """The execution's state; its workflow file's text as the editor has it."""
    full_id = await resolve(server, execution_id)
    store = (await services(server)).store
    return await debug_state(
        store, full_id, lambda file: server.document_text(path_to_uri(Path(file)))
    )


def _locator(outline: Outline | None, lines: list[str]) -> Callable[[int], dp.BreakpointLocation]:
    """The location of a line's breakpoint: the first node (in line order) whose last line is
    not before it (the nodes' blocks follow each other: their last lines grow)."""
    nodes = sorted(outline.nodes, key=lambda n: n.range.start.line) if outline else []
    lasts = [_last_line(node.range, lines) for node in nodes]
    anchor_line = outline.anchor_line if outline else 0

    def locate(line: int) -> dp.BreakpointLocation:
        at = bisect.bisect_left(lasts, line)
        if line > anchor_line and at < len(nodes):
            node = nodes[at]
            return dp.BreakpointLocation(
                line=line, node_id=node.id, verified_line=node.range.start.line
            )
        return dp.BreakpointLocation(line=line, node_id=None, verified_line=None)

    return locate


def _last_line(rng: types.Range, lines: list[str]) -> int:
    """A node's last line of its own: the blank and comment lines its block ends with (its
    span may take them in) are between nodes, and so is a next line its span ends at."""
    last = rng.end.line
    if rng.end.character == 0 and last > rng.start.line:
        last -= 1
    while last > rng.start.line and _filler(lines[last] if last < len(lines) else ""):
        last -= 1
    return last


def _filler(text: str) -> bool:
    stripped = text.strip()
    return not stripped or stripped.startswith("#")
