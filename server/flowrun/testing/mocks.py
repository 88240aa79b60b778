"""A test's `mock:` values → the engine's `options.mocks` (one result per loop iteration).

    node: <value>                       the node's output
    node: {error: {type, message}}      the node fails with this error
    node: [<value or error>, ...]       in a loop stage: one per iteration, the last repeats
                                        (outside a loop, a list is the output itself)

A mapping whose only key is `error` is the error form; its `type` defaults to `MockError`
and its `message` to "mocked error".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowrun.spec.models import Workflow

DEFAULT_ERROR = {"type": "MockError", "message": "mocked error"}


def is_error_form(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"error"}


def loop_nodes(workflow: Workflow) -> set[str]:
    """Ids of the nodes in a loop stage (where a list mock is one result per iteration)."""
    return {n.id for s in workflow.stages or [] if s.loop is not None for n in s.nodes}


def engine_mocks(workflow: Workflow, mock: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    looped = loop_nodes(workflow)
    results: dict[str, list[dict[str, Any]]] = {}
    for node_id, value in mock.items():
        if node_id in looped and isinstance(value, list) and value:
            results[node_id] = [_result(item) for item in value]
        else:
            results[node_id] = [_result(value)]
    return results


def _result(value: Any) -> dict[str, Any]:
    if not is_error_form(value):
        return {"output": value}
    error = value["error"]
    if not isinstance(error, Mapping):
        return {"error": {**DEFAULT_ERROR, "message": str(error)}}
    return {"error": {**DEFAULT_ERROR, **{str(k): v for k, v in error.items()}}}
