"""The state of one execution: node statuses, what is ready, skips and on_failure. No I/O.

The scheduler runs one stage (iteration) at a time: `begin_stage`, then `release` and
`finish` until `stage_done`. A loop iteration begins the same stage again, which resets its
nodes, so a node's status is always that of its latest iteration; the run fails when a
node's latest status is `failed`.

A self-deciding node (its `when` uses a status function, `plan.uses_status`) is never skipped
for a node it uses, and still runs once the run is halted (a failure with `on_failure: stop`,
a run-level error): its `when` decides, with `status_functions` (GitHub Actions' semantics).
"""

from __future__ import annotations

import heapq
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `flowrun.status` (the CLI's start) imports this module: not the planner
    from flowrun_engine.plan import Plan, PlanNode


class NodeStatus(StrEnum):
    """A node's (and a stage's) status; the server's history uses these too (flowrun.status).

    The engine never sets PAUSED: the server does, while the execution waits for an approval.
    """

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    STOPPED = "stopped"

    @property
    def is_terminal(self) -> bool:
        return self not in (NodeStatus.PENDING, NodeStatus.RUNNING, NodeStatus.PAUSED)


class Action(StrEnum):
    RUN = "run"  # start it (the scheduler still checks `when`)
    SKIP = "skip"  # a node it uses did not succeed
    FIXED = "fixed"  # given, mocked or pinned: finished with a known result


class ExecutionState:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.statuses = {node_id: NodeStatus.PENDING for node_id in plan.nodes}
        self.outputs: dict[str, Any] = {}
        self.errors: dict[str, dict[str, Any]] = {}
        self.halted = False
        self.failed_outside_nodes = False  # a run-level error (loop exhausted, bad `until`)
        self._upstream: dict[str, frozenset[str]] = {}
        self._failure_order: list[str] = []
        self._stage: tuple[str, ...] = ()
        self._released: set[str] = set()
        self.iteration: int | None = None
        # the cost of a run grows with its nodes, not their square: `release` looks only at
        # the nodes a change may have made ready, `nodes_context` rebuilds changed entries
        self._position = {n: i for s in plan.stages for i, n in enumerate(s.node_ids)}
        self._dependents: dict[str, list[str]] = {n: [] for n in plan.nodes}
        for node in plan.nodes.values():
            for other in node.after:
                self._dependents[other].append(node.id)
        self._candidates: list[tuple[int, str]] = []  # a heap, in stage order
        self._entries: dict[str, dict[str, Any]] = {n: {} for n in plan.nodes}  # plan order
        self._changed: set[str] = set(plan.nodes)

    def _set(self, node_id: str, status: NodeStatus) -> None:
        self.statuses[node_id] = status
        self._changed.add(node_id)
        if status.is_terminal:
            for other in self._dependents[node_id]:
                heapq.heappush(self._candidates, (self._position[other], other))

    def begin_stage(self, index: int, iteration: int | None = None) -> None:
        self._stage = self.plan.stages[index].node_ids
        self.iteration = iteration
        self._released = set()
        self._candidates = [(i, n) for i, n in enumerate(self._stage)]
        for node_id in self._stage:
            self._set(node_id, NodeStatus.PENDING)
            self.outputs.pop(node_id, None)
            self.errors.pop(node_id, None)
            if node_id in self._failure_order:
                self._failure_order.remove(node_id)

    def release(self) -> list[tuple[str, Action]]:
        """Nodes of the current stage that can go now; skips and fixed outputs are applied."""
        released: list[tuple[str, Action]] = []
        while self._candidates:  # a node skipped or fixed here may make later ones ready
            _, node_id = heapq.heappop(self._candidates)
            if node_id in self._released or not self._after_done(node_id):
                continue  # a candidate again when another node it comes after ends
            if self.halted and not self.plan.nodes[node_id].self_deciding:
                continue  # `halt` skipped it
            self._released.add(node_id)
            released.append((node_id, self._action(self.plan.nodes[node_id])))
        return released

    def hold(self, node_id: str) -> None:
        """A released node that a pause keeps from running: `pending` again, not released
        again in this child (the resume runs it)."""
        self._set(node_id, NodeStatus.PENDING)

    def _after_done(self, node_id: str) -> bool:
        return all(self.statuses[n].is_terminal for n in self.plan.nodes[node_id].after)

    def _action(self, node: PlanNode) -> Action:
        if node.fixed:
            self._finish_fixed(node)
            return Action.FIXED
        if not node.self_deciding and any(
            self.statuses.get(n) is not NodeStatus.SUCCEEDED for n in node.data
        ):
            self._set(node.id, NodeStatus.SKIPPED)
            return Action.SKIP
        self._set(node.id, NodeStatus.RUNNING)
        return Action.RUN

    def _finish_fixed(self, node: PlanNode) -> None:
        """A mocked error fails the node as a real one would (and may halt the run: nodes
        not yet released are then not released, the scheduler skips them)."""
        result = node.fixed_result(self.iteration)
        if "error" in result:
            if self.finish(node.id, NodeStatus.FAILED, error=dict(result["error"])):
                self.halted = True
        else:
            self.finish(node.id, NodeStatus.SUCCEEDED, output=result.get("output"))

    def blocking_node(self, node_id: str) -> str | None:
        """The first node `node_id` uses that did not succeed (why it was skipped)."""
        node = self.plan.nodes[node_id]
        return next(
            (n for n in sorted(node.data) if self.statuses.get(n) is not NodeStatus.SUCCEEDED),
            None,
        )

    def finish(
        self,
        node_id: str,
        status: NodeStatus,
        *,
        output: Any = None,
        error: dict[str, Any] | None = None,
    ) -> bool:
        """Record a node's end; True when the run must stop (a failure with on_failure stop)."""
        self._set(node_id, status)
        if output is not None or status is NodeStatus.SUCCEEDED:
            self.outputs[node_id] = output
        if status is NodeStatus.FAILED:
            self.errors[node_id] = error or {"type": "ExecutionError", "message": "failed"}
            self._failure_order.append(node_id)
            return self.plan.nodes[node_id].on_failure != "continue"
        return False

    def halt(self) -> list[str]:
        """Stop releasing; the current stage's nodes not yet released are now skipped, but
        for self-deciding ones, which are released when ready."""
        self.halted = True
        nodes = self.plan.nodes
        return self._skip(
            [n for n in self._stage if n not in self._released and not nodes[n].self_deciding]
        )

    def has_self_deciding(self, index: int) -> bool:
        return any(self.plan.nodes[n].self_deciding for n in self.plan.stages[index].node_ids)

    def upstream(self, node_id: str) -> frozenset[str]:
        """Every node `node_id` comes after: its `needs` and the nodes its `with` reads,
        transitively, and every node of the earlier stages."""
        cached = self._upstream.get(node_id)
        if cached is not None:
            return cached
        node = self.plan.nodes[node_id]
        found = {n for s in self.plan.stages[: node.stage_index] for n in s.node_ids}
        todo = list(node.after | node.data)
        while todo:
            other = todo.pop()
            if other in found or other not in self.plan.nodes:
                continue
            found.add(other)
            todo.extend(self.plan.nodes[other].after | self.plan.nodes[other].data)
        self._upstream[node_id] = frozenset(found)
        return self._upstream[node_id]

    def status_functions(self, node_id: str, cancelled: bool) -> dict[str, bool]:
        """What `success()`, `failure()` and `cancelled()` answer in `node_id`'s `when`.

        success: every upstream node succeeded and the run is neither failing nor stopped;
        failure: an upstream node failed, or the run failed outside any node."""
        statuses = [self.statuses[n] for n in self.upstream(node_id)]
        failed = any(s is NodeStatus.FAILED for s in statuses) or self.failed_outside_nodes
        succeeded = all(s is NodeStatus.SUCCEEDED for s in statuses)
        return {
            "success": succeeded and not self.halted and not cancelled,
            "failure": failed,
            "cancelled": cancelled,
        }

    def skip_stage(self, index: int) -> list[str]:
        return self._skip(list(self.plan.stages[index].node_ids))

    def _skip(self, node_ids: list[str]) -> list[str]:
        skipped = [n for n in node_ids if self.statuses[n] is NodeStatus.PENDING]
        for node_id in skipped:
            self._set(node_id, NodeStatus.SKIPPED)
            self._released.add(node_id)
        return skipped

    def stage_done(self) -> bool:
        return all(self.statuses[n].is_terminal for n in self._stage)

    def stage_status(self, index: int) -> str:
        statuses = [self.statuses[n] for n in self.plan.stages[index].node_ids]
        for status in (NodeStatus.FAILED, NodeStatus.STOPPED):
            if status in statuses:
                return status.value
        if statuses and all(s is NodeStatus.SKIPPED for s in statuses):
            return NodeStatus.SKIPPED.value
        return NodeStatus.SUCCEEDED.value

    def failures(self) -> list[dict[str, Any]]:
        """Errors of the nodes whose latest status is failed, in the order they failed."""
        return [
            {**self.errors[n], "node": n}
            for n in self._failure_order
            if self.statuses[n] is NodeStatus.FAILED
        ]

    def nodes_context(self) -> dict[str, dict[str, Any]]:
        """`nodes.<id>.output` / `.status` for expressions (a snapshot: later changes are
        not seen through it)."""
        for node_id in self._changed:
            status = self.statuses[node_id]
            self._entries[node_id] = {"output": self.outputs.get(node_id), "status": status.value}
        self._changed.clear()
        return dict(self._entries)
