"""What the editor's debugger shows of an execution (issue 17): its state read back from the
history alone (so a paused execution is inspected after the daemon restarted), and the
expressions the Debug Console and hovers evaluate against it with the engine's evaluator.

The state is the execution asked for (a resume's given nodes are rows of it, so every
completed node shows). `env` is the workflow file's `env:` (expressions rendered against the
execution's inputs and trigger); an expression may read the variables a run's child gets of
the server's environment (`launch.passed_through`), as a run does, and no others (the editor's
environment holds credentials no run sees). Secrets are names only: their values are never
in the history, and an expression sees each as `••••` (so does an `env.NAME` that is a
secret's name).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowrun.history.interface import HistoryBackend
from flowrun.history.tree import node_elements
from flowrun.runs.launch import passed_through
from flowrun.spec.loader import load_yaml
from flowrun.status import ExecutionStatus
from flowrun_engine import expr
from flowrun_engine.attempts import render_value

MASK = "••••"


@dataclass(frozen=True)
class DebugNode:
    id: str
    status: str
    input: Any
    output: Any
    error: Any
    iteration: int | None


@dataclass(frozen=True)
class DebugState:
    execution_id: str
    status: str
    reason: str | None
    paused_at: list[str]
    inputs: dict[str, Any]
    trigger: dict[str, Any]
    env: dict[str, Any]
    secrets: dict[str, str]  # name → MASK
    nodes: list[DebugNode] = field(default_factory=list)

    paused_iteration: int | None = None  # the engine's `error.iteration`: a pause in a loop

    @property
    def loop(self) -> dict[str, Any] | None:
        """`loop` where it paused, when that is in a loop stage; else None."""
        iteration = self.loop_of(self.paused_at[0]) if self.paused_at else None
        return None if iteration is None else {"iteration": iteration}

    def loop_of(self, node_id: str | None) -> int | None:
        """The iteration `node_id` paused in (before it), else that of its latest row (None
        outside a loop)."""
        if node_id in self.paused_at and self.paused_iteration is not None:
            return self.paused_iteration
        rows = [node for node in self.nodes if node.id == node_id]
        return rows[-1].iteration if rows else None

    def context(self, node_id: str | None = None) -> dict[str, Any]:
        """What an expression sees: as in the run, with the recorded values; `loop` is the
        iteration of `node_id` (default: the node it paused at)."""
        latest: dict[str, DebugNode] = {node.id: node for node in self.nodes}
        masked = {name: MASK for name in self.secrets}
        here = node_id if node_id is not None or not self.paused_at else self.paused_at[0]
        return {
            "inputs": self.inputs,
            "trigger": self.trigger,
            "env": {**passed_through(), **self.env, **masked},
            "secrets": masked,
            "nodes": {n.id: {"output": n.output, "status": n.status} for n in latest.values()},
            "loop": {"iteration": self.loop_of(here)},
        }

    def evaluate(self, expression: str, node_id: str | None = None) -> Any:
        """`${{ }}` templates or a bare expression; raises expr.ExprSyntaxError/ExprEvalError."""
        return render_value(expression, self.context(node_id))


async def debug_state(
    store: HistoryBackend, execution_id: str, read: Callable[[str], str | None] | None = None
) -> DebugState:
    """The state of `execution_id` (a full id); `read`: the text of its workflow file from
    its path (default: the file on disk)."""
    tree = await store.execution_tree(execution_id)
    error = tree.get("error") if isinstance(tree.get("error"), dict) else {}
    paused = tree["status"] == ExecutionStatus.PAUSED
    inputs = _mapping(tree.get("inputs"))
    trigger = _mapping(tree.get("trigger"))
    env, secrets = _declared((read or _read)(str(tree.get("file") or "")))
    context = {"inputs": inputs, "trigger": trigger, "secrets": {n: MASK for n in secrets}}
    return DebugState(
        execution_id=str(tree["id"]),
        status=str(tree["status"]),
        reason=str(error["reason"]) if paused and error.get("reason") else None,
        paused_at=[str(n) for n in error.get("pausedAt") or []] if paused else [],
        inputs=inputs,
        trigger=trigger,
        env={name: _rendered(value, context) for name, value in env.items()},
        secrets={name: MASK for name in secrets},
        nodes=[_node(element) for element in node_elements(tree["children"])],
        paused_iteration=error.get("iteration") if paused else None,
    )


def display(value: Any) -> str:
    """How the Debug Console shows a value: JSON (a text quoted, as debuggers show it)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _read(file: str) -> str | None:
    try:
        with open(file, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _declared(text: str | None) -> tuple[dict[str, Any], list[str]]:
    """The file's `env:` and `secrets:` (empty when it cannot be read)."""
    data = load_yaml(text).data if text is not None else None
    if not isinstance(data, dict):
        return {}, []
    env, secrets = data.get("env"), data.get("secrets")
    return (
        {str(k): v for k, v in env.items()} if isinstance(env, dict) else {},
        [s for s in secrets if isinstance(s, str)] if isinstance(secrets, list) else [],
    )


def _rendered(value: Any, context: Mapping[str, Any]) -> Any:
    try:
        return expr.render(value, context)
    except (expr.ExprSyntaxError, expr.ExprEvalError):
        return value


def _node(element: Mapping[str, Any]) -> DebugNode:
    return DebugNode(
        id=str(element["id"]),
        status=str(element["status"]),
        input=element.get("input"),
        output=element.get("output"),
        error=element.get("error"),
        iteration=element.get("iteration"),
    )
