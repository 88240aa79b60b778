"""Node types that misbehave, registered by tests through monkeypatching REGISTRY."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowrun_engine.context import NodeContext
from flowrun_engine.errors import NodeError

on_run: Callable[[], None] = lambda: None  # noqa: E731


async def run(params: dict[str, Any], ctx: NodeContext) -> Any:
    kind = params.get("raise")
    on_run()
    if kind == "timeout":
        raise TimeoutError("a library's own timeout")
    if kind == "bug":
        raise RuntimeError("a bug in a node type")
    raise NodeError("HTTPError", "refused", suggestion="check the server")
