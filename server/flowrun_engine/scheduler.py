"""The run loop: stages one after the other, inside a stage every ready node at once.

`Runner.execute()` never raises for what happens in the workflow: it writes
`execution_finished` and returns its fields. Concurrency is an `asyncio.Semaphore` of
`max_parallel` slots; the loop waits with `asyncio.wait(FIRST_COMPLETED)`. `stop()` (SIGTERM)
and the execution timeout cancel the loop, which cancels the running nodes: those that had
started finish `stopped`, the others `skipped`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowrun_engine import events as ev
from flowrun_engine import expr, stdio
from flowrun_engine.context import NodeContext
from flowrun_engine.environment import RunEnvironment, build_environment
from flowrun_engine.errors import NodeError
from flowrun_engine.nodes import runner_for
from flowrun_engine.plan import Plan, PlanNode, PlanStage, build_plan
from flowrun_engine.state import Action, ExecutionState, NodeStatus

DEFAULT_MAX_PARALLEL = 16
DEFAULT_TIMEOUT = 600.0


@dataclass
class Outcome:
    status: NodeStatus
    output: Any = None
    error: dict[str, Any] | None = None


class _Halted(Exception):
    """A run-level failure outside any node (loop exhausted, bad `until`)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.error = error


class Runner:
    def __init__(
        self,
        resolved: Mapping[str, Any],
        sink: ev.EventSink,
        *,
        execution_id: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = dict(os.environ if environ is None else environ)
        self.workflow: Mapping[str, Any] = resolved["workflow"]
        self.options: Mapping[str, Any] = resolved.get("options") or {}
        self.execution_id = (
            execution_id or environ.get("FLOWRUN_EXECUTION_ID") or os.urandom(16).hex()
        )
        self.cwd = str(self.options.get("cwd") or os.getcwd())
        self.scratch = self.options.get("scratch") or environ.get("FLOWRUN_SCRATCH")
        self.env = self._environment(environ)
        self.emitter = ev.Emitter(sink, self.env.secrets.values())
        self.plan: Plan = build_plan(self.workflow, self.options.get("given_outputs"))
        self.state = ExecutionState(self.plan)
        self.base_context = {
            "inputs": resolved.get("inputs") or {},
            "trigger": resolved.get("trigger") or {},
            "env": {**environ, **(self.workflow.get("env") or {})},
            "secrets": self.env.secrets,
        }
        self._slots = asyncio.Semaphore(int(self.options.get("max_parallel") or 16))
        self._main: asyncio.Task[None] | None = None
        self._stop_requested = False
        self._run_error: dict[str, Any] | None = None

    def _environment(self, environ: Mapping[str, str]) -> RunEnvironment:
        flowrun_vars = {
            "FLOWRUN_EXECUTION_ID": self.execution_id,
            "FLOWRUN_WORKFLOW_ID": str(self.workflow.get("id") or ""),
            "FLOWRUN_EXECUTION_MODE": environ.get("FLOWRUN_EXECUTION_MODE", "test"),
        }
        return build_environment(
            environ=environ,
            workflow_env=self.workflow.get("env") or {},
            secret_names=self.workflow.get("secrets") or [],
            cwd=self.cwd,
            flowrun_vars=flowrun_vars,
        )

    # -- the execution -------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM: stop running nodes and finish `stopped`."""
        self._stop_requested = True
        if self._main is not None:
            self._main.cancel()

    async def execute(self) -> dict[str, Any]:
        self.emitter.emit(
            ev.EXECUTION_STARTED,
            execution_id=self.execution_id,
            workflow_id=self.workflow.get("id"),
            plan=self.plan.to_event(),
        )
        status, error = await self._supervised()
        self._skip_rest()
        outputs = self._outputs()
        self.emitter.emit(ev.EXECUTION_FINISHED, status=status, outputs=outputs, error=error)
        return {"status": status, "outputs": outputs, "error": error}

    async def _supervised(self) -> tuple[str, dict[str, Any] | None]:
        timeout = float(self.options.get("timeout") or DEFAULT_TIMEOUT)
        self._main = asyncio.create_task(self._run_stages())
        if self._stop_requested:
            self._main.cancel()
        try:
            async with asyncio.timeout(timeout):
                with stdio.redirected():
                    await asyncio.shield(self._main)
        except TimeoutError:
            await self._cancel_main()
            return "timed_out", {
                "type": "ExecutionTimeout",
                "message": f"the execution did not finish within {timeout:g} s",
                "suggestion": "raise the execution timeout (--timeout) or make the slow "
                "nodes faster (see their durations)",
            }
        except asyncio.CancelledError:
            if not self._stop_requested:
                raise
        if self._stop_requested:
            return "stopped", {"type": "Stopped", "message": "the execution was stopped"}
        return self._final()

    async def _cancel_main(self) -> None:
        assert self._main is not None
        self._main.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._main

    def _final(self) -> tuple[str, dict[str, Any] | None]:
        errors = self.state.failures()
        if self._run_error is not None:
            errors.append(self._run_error)
        if not errors:
            return "succeeded", None
        return "failed", {**errors[0], "errors": errors}

    async def _run_stages(self) -> None:
        index = 0
        try:
            while index < len(self.plan.stages) and not self.state.halted:
                index = await self._run_stage(self.plan.stages[index])
        except _Halted as halted:
            self._run_error = halted.error
            self.state.halt()

    async def _run_stage(self, stage: PlanStage) -> int:
        """Run a stage (all its iterations); returns the index of the next stage."""
        if stage.loop is None:
            await self._run_iteration(stage, None)
            return stage.index + 1
        for iteration in range(1, stage.loop.max_iters + 1):
            await self._run_iteration(stage, iteration)
            if self.state.halted or self._until(stage, iteration):
                return stage.index + 1
        if stage.loop.until is None:  # a plain repeat: max_iters times, then go on
            return stage.index + 1
        return self._exhausted(stage)

    def _until(self, stage: PlanStage, iteration: int) -> bool:
        assert stage.loop is not None
        if stage.loop.until is None:
            return False
        try:
            return truthy(self._evaluate(stage.loop.until, iteration))
        except (expr.ExprSyntaxError, expr.ExprEvalError) as exc:
            raise _Halted(
                {
                    "type": "ExecutionError",
                    "message": f"the `until` of stage `{stage.id}` failed: {exc}",
                    "suggestion": "fix the expression; missing values are null",
                }
            ) from None

    def _exhausted(self, stage: PlanStage) -> int:
        assert stage.loop is not None
        fallback = stage.loop.fallback
        if fallback is None:
            raise _Halted(
                {
                    "type": "LoopExhausted",
                    "message": f"stage `{stage.id}` ran {stage.loop.max_iters} times and its "
                    "`until` never became true",
                    "suggestion": "raise `max_iters`, fix the `until` condition, or add a "
                    "`fallback` stage",
                }
            )
        target = self.plan.stage_index(fallback)
        for skipped in self.plan.stages[stage.index + 1 : target]:
            self._emit_skipped_stage(skipped)
        return target

    async def _run_iteration(self, stage: PlanStage, iteration: int | None) -> None:
        self.state.begin_stage(stage.index)
        if stage.id is not None:
            self.emitter.emit(ev.STAGE_STARTED, stage=stage.id, iteration=iteration)
        running: dict[asyncio.Task[Outcome], str] = {}
        try:
            while True:
                self._release(iteration, running)
                if not running:
                    break
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    self._record(running.pop(task), task.result(), iteration, running)
        except asyncio.CancelledError:
            await self._stop_running(running, iteration)
            raise
        finally:
            self._emit_stage_finished(stage, iteration)

    def _release(self, iteration: int | None, running: dict[asyncio.Task[Outcome], str]) -> None:
        for node_id, action in self.state.release():
            node = self.plan.nodes[node_id]
            if action is Action.RUN:
                task = asyncio.create_task(self._run_node(node, iteration), name=node_id)
                running[task] = node_id
            elif action is Action.FIXED:
                self._emit_fixed(node, iteration)
            else:
                self._emit_skipped(node, iteration, self.state.blocking_node(node_id))

    def _record(
        self,
        node_id: str,
        outcome: Outcome,
        iteration: int | None,
        running: dict[asyncio.Task[Outcome], str],
    ) -> None:
        if self.state.finish(node_id, outcome.status, output=outcome.output, error=outcome.error):
            self._halt(iteration)
            for task in running:
                task.cancel()

    async def _stop_running(
        self, running: dict[asyncio.Task[Outcome], str], iteration: int | None
    ) -> None:
        for task in running:
            task.cancel()
        results = await asyncio.gather(*running, return_exceptions=True)
        for node_id, result in zip(running.values(), results, strict=True):
            outcome = result if isinstance(result, Outcome) else Outcome(NodeStatus.STOPPED)
            self.state.finish(node_id, outcome.status, output=outcome.output, error=outcome.error)
        self._halt(iteration)

    def _halt(self, iteration: int | None) -> None:
        for node_id in self.state.halt():
            self._emit_skipped(self.plan.nodes[node_id], iteration, None)

    # -- one node ------------------------------------------------------------------------

    async def _run_node(self, node: PlanNode, iteration: int | None) -> Outcome:
        started: list[float] = []
        try:
            context = self._context(iteration)
            if node.when is not None and not truthy(self._render(node.when, context)):
                return self._finish(node, iteration, Outcome(NodeStatus.SKIPPED), attempt=0)
            params = self._render(dict(node.params), context)
            return await self._attempts(node, iteration, params, started)
        except (expr.ExprSyntaxError, expr.ExprEvalError) as exc:
            error = {
                "type": "ExecutionError",
                "message": f"node `{node.id}`: an expression failed: {exc}",
                "suggestion": "fix the expression; missing values are null, use default(x, y)",
            }
            return self._finish(node, iteration, Outcome(NodeStatus.FAILED, error=error), 0)
        except asyncio.CancelledError:
            status = NodeStatus.STOPPED if started else NodeStatus.SKIPPED
            return self._finish(node, iteration, Outcome(status), started=started)

    async def _attempts(
        self, node: PlanNode, iteration: int | None, params: dict[str, Any], started: list[float]
    ) -> Outcome:
        attempt = 1
        while True:
            async with self._slots:  # held until node_finished/node_retry is written
                started.append(time.monotonic())
                self._emit_node(ev.NODE_STARTED, node, iteration, attempt=attempt, input=params)
                try:
                    output = await self._attempt(node, iteration, params, attempt)
                except NodeError as exc:
                    error = {**exc.to_dict(), "node": node.id}
                    failure = Outcome(NodeStatus.FAILED, output=exc.output, error=error)
                else:
                    outcome = Outcome(NodeStatus.SUCCEEDED, output=output)
                    return self._finish(node, iteration, outcome, attempt, started)
                if attempt >= node.retry.attempts or self._stop_requested:
                    return self._finish(node, iteration, failure, attempt, started)
                delay = node.retry.delay(attempt)
                self._emit_node(
                    ev.NODE_RETRY, node, iteration, attempt=attempt, delay=delay, error=error
                )
            await asyncio.sleep(delay)
            attempt += 1

    async def _attempt(
        self, node: PlanNode, iteration: int | None, params: dict[str, Any], attempt: int
    ) -> Any:
        ctx = self._node_context(node, iteration, attempt)
        try:
            async with asyncio.timeout(node.timeout) as scope:
                return await runner_for(node.type)(params, ctx)
        except TimeoutError:
            if not scope.expired():
                raise _unexpected(node, TimeoutError("timed out")) from None
            raise NodeError(
                "NodeTimeout",
                f"node `{node.id}` did not finish within {node.timeout:g} s",
                suggestion="raise the node's `timeout`, or make it faster",
            ) from None
        except (NodeError, asyncio.CancelledError):
            raise
        except Exception as exc:
            raise _unexpected(node, exc) from None
        finally:
            ctx.close()

    def _node_context(self, node: PlanNode, iteration: int | None, attempt: int) -> NodeContext:
        def on_log(stream: str, text: str) -> None:
            self._emit_node(ev.NODE_LOG, node, iteration, stream=stream, text=text)

        return NodeContext(
            node_id=node.id,
            attempt=attempt,
            timeout=node.timeout,
            env={**self.env.variables, "FLOWRUN_NODE_ID": node.id},
            cwd=self.cwd,
            scratch=self.scratch,
            secrets=self.env.secrets,
            on_log=on_log,
            workflow_file=self.workflow.get("file"),
            code_line=node.code_line,
        )

    # -- expressions ---------------------------------------------------------------------

    def _context(self, iteration: int | None) -> dict[str, Any]:
        return {
            **self.base_context,
            "nodes": self.state.nodes_context(),
            "loop": {"iteration": iteration},
        }

    def _render(self, value: Any, context: Mapping[str, Any]) -> Any:
        if isinstance(value, str) and "${{" not in value:
            return expr.evaluate(expr.parse(value), context)
        return expr.render(value, context)

    def _evaluate(self, value: Any, iteration: int | None) -> Any:
        return self._render(value, self._context(iteration))

    def _outputs(self) -> dict[str, Any]:
        context = self._context(None)
        outputs: dict[str, Any] = {}
        for name, value in self.plan.outputs.items():
            try:
                outputs[name] = expr.render(value, context)
            except (expr.ExprSyntaxError, expr.ExprEvalError):
                outputs[name] = None
        return outputs

    # -- events --------------------------------------------------------------------------

    def _emit_node(self, name: str, node: PlanNode, iteration: int | None, **fields: Any) -> None:
        self.emitter.emit(name, node=node.id, stage=node.stage, iteration=iteration, **fields)

    def _finish(
        self,
        node: PlanNode,
        iteration: int | None,
        outcome: Outcome,
        attempt: int = 1,
        started: list[float] | None = None,
    ) -> Outcome:
        duration = (time.monotonic() - started[0]) * 1000 if started else 0.0
        if outcome.status is NodeStatus.FAILED and self._stop_requested:
            outcome = Outcome(NodeStatus.STOPPED, output=outcome.output)
        self._emit_node(
            ev.NODE_FINISHED,
            node,
            iteration,
            status=outcome.status.value,
            output=outcome.output,
            error=outcome.error,
            attempt=len(started) if started else attempt,
            duration_ms=round(duration),
        )
        return outcome

    def _emit_fixed(self, node: PlanNode, iteration: int | None) -> None:
        output = self.options["given_outputs"][node.id] if node.given else node.pin
        self.state.set_output(node.id, output)
        flag = {"given": True} if node.given else {"pinned": True}
        self._emit_node(
            ev.NODE_FINISHED,
            node,
            iteration,
            status="succeeded",
            output=output,
            error=None,
            attempt=0,
            duration_ms=0,
            **flag,
        )

    def _emit_skipped(self, node: PlanNode, iteration: int | None, blocked_by: str | None) -> None:
        self._emit_node(
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
        if stage.id is not None:
            self.emitter.emit(
                ev.STAGE_FINISHED,
                stage=stage.id,
                iteration=iteration,
                status=self.state.stage_status(stage.index),
            )

    def _emit_skipped_stage(self, stage: PlanStage) -> None:
        for node_id in self.state.skip_stage(stage.index):
            self._emit_skipped(self.plan.nodes[node_id], None, None)
        if stage.id is not None:
            self.emitter.emit(ev.STAGE_FINISHED, stage=stage.id, iteration=None, status="skipped")

    def _skip_rest(self) -> None:
        for stage in self.plan.stages:
            if any(self.state.statuses[n] is NodeStatus.PENDING for n in stage.node_ids):
                self._emit_skipped_stage(stage)


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "null", "none", "no")
    return bool(value)


def _unexpected(node: PlanNode, exc: BaseException) -> NodeError:
    return NodeError(
        "ExecutionError",
        f"node `{node.id}` ({node.type}) failed unexpectedly: {type(exc).__name__}: {exc}",
        traceback="".join(traceback.format_exception(exc)),
        suggestion="this looks like a bug in Flowrun; please report it with the traceback",
    )


async def run_workflow(
    resolved: Mapping[str, Any],
    sink: ev.EventSink,
    *,
    execution_id: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run one execution; returns `{status, outputs, error}` (also sent as execution_finished)."""
    return await Runner(resolved, sink, execution_id=execution_id, environ=environ).execute()
