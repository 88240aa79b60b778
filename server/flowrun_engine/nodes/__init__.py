"""Node types: one module per type, looked up through REGISTRY and imported on first use.

Every public module of this package is a node type named after it (helpers start with `_`),
so adding a type is its module here, its entry in the server's spec (`flowrun/spec/params.py`)
and its docs; a test checks that the two lists agree.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

from flowrun_engine.context import NodeContext
from flowrun_engine.errors import execution_error

REGISTRY: dict[str, str] = {
    module.name: f"{__name__}.{module.name}"
    for module in pkgutil.iter_modules(__path__)
    if not module.name.startswith("_")
}

NodeRunner = Callable[[dict[str, Any], NodeContext], Awaitable[Any]]


def runner_for(node_type: str) -> NodeRunner:
    module_name = REGISTRY.get(node_type)
    if module_name is None:
        raise execution_error(
            f"unknown node type `{node_type}`", f"use one of: {', '.join(sorted(REGISTRY))}"
        )
    runner: NodeRunner = importlib.import_module(module_name).run
    return runner
