"""Params and results of the editor's debugger requests (issue 17): `flowrun/debugState`,
`flowrun/evaluate`, `flowrun/breakpointLocations` and `flowrun/setBreakpoints` (their method
names are in `lsp.protocol` with the others; `lsp.debugger` serves them). The breakpoints of a
run travel in `protocol.PauseOptions`; `flowrun/setBreakpoints` replaces a running one's.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flowrun.lsp.protocol import Breakpoint, WireModel


class DebugNode(WireModel):
    id: str
    status: str
    input: Any = None
    output: Any = None
    error: Any = None
    iteration: int | None = None


class DebugStateResult(WireModel):
    """An execution as the debugger shows it, from the history (`runs.debug_state`)."""

    execution_id: str
    status: str
    reason: str | None  # why it paused (breakpoint, step, failure, request); null otherwise
    paused_at: list[str]
    inputs: dict[str, Any]
    trigger: dict[str, Any]
    env: dict[str, Any]
    secrets: dict[str, str]  # name → "••••": values are never sent
    loop: dict[str, Any] | None  # `{iteration}` where it paused in a loop stage; else null
    nodes: list[DebugNode]


class EvaluateParams(WireModel):
    execution_id: str = Field(min_length=1)
    expression: str = Field(min_length=1)
    node_id: str | None = None  # the frame: `loop` is its iteration


class EvaluateResult(WireModel):
    value: Any
    display: str


class BreakpointLocationsParams(WireModel):
    uri: str = Field(min_length=1)
    lines: list[int] = Field(max_length=10_000)  # 0-based, as LSP


class BreakpointLocation(WireModel):
    line: int
    node_id: str | None  # the node the line's breakpoint belongs to; null: no node there
    verified_line: int | None  # that node's first line


class BreakpointLocationsResult(WireModel):
    locations: list[BreakpointLocation]


class SetBreakpointsParams(WireModel):
    """A running execution's new breakpoints: the editor's full list (it replaces the old)."""

    execution_id: str = Field(min_length=1)
    breakpoints: list[Breakpoint] = Field(max_length=10_000)


class SetBreakpointsResult(WireModel):
    applied: bool  # false: the execution does not run here (any more): nothing to change
