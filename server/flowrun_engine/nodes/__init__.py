"""Node types: one module per type, looked up through REGISTRY and imported on first use."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from flowrun_engine.context import NodeContext
from flowrun_engine.errors import NodeError

REGISTRY: dict[str, str] = {
    "shell": "flowrun_engine.nodes.shell",
    "python": "flowrun_engine.nodes.python",
    "http": "flowrun_engine.nodes.http",
    "llm": "flowrun_engine.nodes.llm",
    "agent": "flowrun_engine.nodes.agent",
    "transform": "flowrun_engine.nodes.transform",
}

NodeRunner = Callable[[dict[str, Any], NodeContext], Awaitable[Any]]


def runner_for(node_type: str) -> NodeRunner:
    module_name = REGISTRY.get(node_type)
    if module_name is None:
        raise NodeError(
            "ExecutionError",
            f"unknown node type `{node_type}`",
            suggestion=f"use one of: {', '.join(sorted(REGISTRY))}",
        )
    runner: NodeRunner = importlib.import_module(module_name).run
    return runner
