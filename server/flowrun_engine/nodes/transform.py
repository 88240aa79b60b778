"""`transform`: the output is `value`, with its expressions already evaluated."""

from __future__ import annotations

from typing import Any

from flowrun_engine.context import NodeContext


async def run(params: dict[str, Any], ctx: NodeContext) -> Any:
    return params.get("value")
