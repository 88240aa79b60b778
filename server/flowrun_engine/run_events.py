"""The events the run loop writes for what it decides itself: fixed and skipped nodes, stage
ends (a stage a pause left part-way finishes `paused`) and the stages never reached."""

from __future__ import annotations

from flowrun_engine import events as ev
from flowrun_engine.attempts import NodeExecutor
from flowrun_engine.pausing import PAUSED, Pausing
from flowrun_engine.plan import Plan, PlanNode, PlanStage
from flowrun_engine.state import ExecutionState, NodeStatus


class RunEvents:
    """Mixed into `scheduler.Runner`, which sets these attributes."""

    plan: Plan
    state: ExecutionState
    nodes: NodeExecutor
    emitter: ev.Emitter
    pausing: Pausing

    def _emit_fixed(self, node: PlanNode, iteration: int | None) -> None:
        result = node.fixed_result(iteration)  # the state has recorded it
        self.nodes.emit(
            ev.NODE_FINISHED,
            node,
            iteration,
            status=self.state.statuses[node.id].value,
            output=result.get("output"),
            error=result.get("error"),
            attempt=0,
            duration_ms=0,
            **{node.fixed_flag: True},
        )

    def _emit_skipped(self, node: PlanNode, iteration: int | None, blocked_by: str | None) -> None:
        self.nodes.emit(
            ev.NODE_FINISHED,
            node,
            iteration,
            status="skipped",
            output=None,
            error=None,
            attempt=0,
            duration_ms=0,
            **({"reason": f"`{blocked_by}` did not succeed"} if blocked_by else {}),
        )

    def _emit_stage_finished(self, stage: PlanStage, iteration: int | None) -> None:
        if stage.id is None:
            return
        status = self.state.stage_status(stage.index)
        if self.pausing.paused and any(
            self.state.statuses[n] is NodeStatus.PENDING for n in stage.node_ids
        ):
            status = PAUSED
        self.emitter.emit(ev.STAGE_FINISHED, stage=stage.id, iteration=iteration, status=status)

    def _emit_skipped_stage(self, stage: PlanStage) -> None:
        for node_id in self.state.skip_stage(stage.index):
            self._emit_skipped(self.plan.nodes[node_id], None, None)
        if stage.id is not None:
            self.emitter.emit(ev.STAGE_FINISHED, stage=stage.id, iteration=None, status="skipped")

    def _skip_rest(self) -> None:
        for stage in self.plan.stages:
            if any(self.state.statuses[n] is NodeStatus.PENDING for n in stage.node_ids):
                self._emit_skipped_stage(stage)
