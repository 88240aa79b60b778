"""The run loop: stages one after the other, inside a stage every ready node at once.

`Runner.execute()` never raises for what happens in the workflow: it writes
`execution_finished` and returns its fields. One node's attempts are in `attempts.py` (with
the `max_parallel` slots); the loop waits with `asyncio.wait(FIRST_COMPLETED)`. `stop()` (SIGTERM)
and the execution timeout cancel the loop, which cancels the running nodes: those that had
started finish `stopped`, the others `skipped`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from typing import Any

from flowrun_engine import containment, expr
from flowrun_engine import events as ev
from flowrun_engine.attempts import NodeExecutor, Outcome, Workspace, render_value, truthy
from flowrun_engine.cache import ResultCache
from flowrun_engine.environment import RunEnvironment, build_environment
from flowrun_engine.forkserver import ForkServer, token_room
from flowrun_engine.pausing import LOGPOINT, PAUSED, Pausing
from flowrun_engine.plan import Plan, PlanStage, build_plan
from flowrun_engine.run_events import RunEvents
from flowrun_engine.state import Action, ExecutionState, NodeStatus

DEFAULT_MAX_PARALLEL = 16
DEFAULT_TIMEOUT = 600.0


class _Halted(Exception):
    """A run-level failure outside any node (loop exhausted, bad `until`)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.error = error


class Runner(RunEvents):
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
        inputs = {
            "inputs": resolved.get("inputs") or {},
            "trigger": resolved.get("trigger") or {},
        }
        self.env = self._environment(environ, inputs)
        self.emitter = ev.Emitter(sink, self.env.secrets.values())
        production = environ.get("FLOWRUN_EXECUTION_MODE") == "production"
        mocks = None if production else self.options.get("mocks")  # design §9
        self.plan: Plan = build_plan(self.workflow, self.options.get("given_outputs"), mocks)
        self.state = ExecutionState(self.plan)
        self.pausing = Pausing(self.options, environ.get("FLOWRUN_BREAKPOINTS"))
        self.base_context = {
            **inputs,
            "env": {**environ, **self.env.workflow_env},
            "secrets": self.env.secrets,
        }
        self.forks = ForkServer(
            self.env.variables, token_room(self.execution_id, list(self.plan.nodes))
        )
        workspace = Workspace(
            self.env,
            self.cwd,
            self.scratch,
            self.workflow.get("file"),
            self.execution_id,
            self.forks,
            ResultCache.for_run(self.cwd, str(self.workflow.get("id") or ""), self.env, environ),
        )
        self.nodes = NodeExecutor(
            self.emitter,
            workspace,
            max_parallel=int(self.options.get("max_parallel") or DEFAULT_MAX_PARALLEL),
            stopping=lambda: self._stop_requested,
        )
        self._main: asyncio.Task[None] | None = None
        self._stop_requested = False
        self._run_error: dict[str, Any] | None = None

    def _environment(
        self, environ: Mapping[str, str], context: Mapping[str, Any]
    ) -> RunEnvironment:
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
            context=context,
        )

    # -- the execution -------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM: stop running nodes and finish `stopped`."""
        self._stop_requested = True
        if self._main is not None:
            self._main.cancel()

    def pause(self) -> None:
        """SIGUSR1: start no node any more, let the running ones finish, end `paused`."""
        self.pausing.request()

    async def execute(self) -> dict[str, Any]:
        self.emitter.emit(
            ev.EXECUTION_STARTED,
            execution_id=self.execution_id,
            workflow_id=self.workflow.get("id"),
            plan=self.plan.to_event(),
        )
        status, error = await self._supervised()
        await self.forks.close()
        await containment.end_run(self.execution_id)  # nothing the run started outlives it
        if status != PAUSED:  # a paused run's pending nodes wait for the resume
            self._skip_rest()
        outputs = self._outputs()
        self.emitter.emit(ev.EXECUTION_FINISHED, status=status, outputs=outputs, error=error)
        return {"status": status, "outputs": outputs, "error": error}

    async def _supervised(self) -> tuple[str, dict[str, Any] | None]:
        if self.env.error is not None:  # `env:` or a secret: no node may start
            return "failed", {**self.env.error, "errors": [self.env.error]}
        timeout = float(self.options.get("timeout") or DEFAULT_TIMEOUT)
        self._main = asyncio.create_task(self._run_stages())
        if self._stop_requested:
            self._main.cancel()
        try:
            async with asyncio.timeout(timeout):
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
            return "stopped", {
                "type": "Stopped",
                "message": "the execution was stopped before it finished",
            }
        if self.pausing.paused:
            return PAUSED, self.pausing.error(self.state.failures())
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
        """Once the run is halted, only stages with self-deciding nodes (a `when` using a status
        function) still run, for those nodes; the rest is skipped at the end."""
        index = 0
        while index < len(self.plan.stages):
            stage = self.plan.stages[index]
            if self.pausing.paused:
                break
            if self.state.halted and not self.state.has_self_deciding(index):
                index += 1
                continue
            try:
                index = await self._run_stage(stage)
            except _Halted as halted:
                self._run_error = halted.error
                self.state.failed_outside_nodes = True
                self.state.halt()
                index = stage.index + 1

    async def _run_stage(self, stage: PlanStage) -> int:
        """Run a stage (all its iterations); returns the index of the next stage."""
        if stage.loop is None:
            await self._run_iteration(stage, None)
            return stage.index + 1
        for iteration in range(1, stage.loop.max_iters + 1):
            await self._run_iteration(stage, iteration)
            if self.state.halted or self.pausing.paused or self._until(stage, iteration):
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
            error = {
                "type": "LoopExhausted",
                "message": f"stage `{stage.id}` ran {stage.loop.max_iters} times and its "
                "`until` never became true",
                "suggestion": "raise `max_iters`, fix the `until` condition, or add a "
                "`fallback` stage",
            }
            # the stage as a whole (iteration null) failed, though each iteration succeeded
            self.emitter.emit(
                ev.STAGE_FINISHED, stage=stage.id, iteration=None, status="failed", error=error
            )
            raise _Halted(error)
        target = self.plan.stage_index(fallback)
        for skipped in self.plan.stages[stage.index + 1 : target]:
            self._emit_skipped_stage(skipped)
        return target

    async def _run_iteration(self, stage: PlanStage, iteration: int | None) -> None:
        self.state.begin_stage(stage.index, iteration)
        if stage.id is not None:
            self.emitter.emit(ev.STAGE_STARTED, stage=stage.id, iteration=iteration)
        if self.state.halted:
            self._halt(iteration)  # only the self-deciding nodes of this stage run
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
        if self.pausing.paused:
            return  # nothing new starts; the running nodes finish
        was_halted = self.state.halted
        released = self.state.release()
        # one context for the nodes released together (they all start from the same state)
        context = self._context(iteration) if released else {}
        for node_id, action in released:
            node = self.plan.nodes[node_id]
            if action is Action.RUN and self.pausing.holds(node_id, context):
                self.state.hold(node_id)
            elif action is Action.RUN:
                for message in self.pausing.logpoints(node_id, context):
                    self.nodes.emit(ev.NODE_LOG, node, iteration, stream=LOGPOINT, text=message)
                status = self.state.status_functions(node_id, self._stop_requested)
                run = self.nodes.run(node, iteration, context, status)
                task = asyncio.create_task(run, name=node_id)
                running[task] = node_id
            elif action is Action.FIXED:
                self._emit_fixed(node, iteration)
            else:
                self._emit_skipped(node, iteration, self.state.blocking_node(node_id))
        if running:
            self.pausing.started()
        if self.state.halted and not was_halted:  # a mocked error with on_failure: stop
            self._halt_running(iteration, running)

    def _record(
        self,
        node_id: str,
        outcome: Outcome,
        iteration: int | None,
        running: dict[asyncio.Task[Outcome], str],
    ) -> None:
        halts = self.state.finish(
            node_id, outcome.status, output=outcome.output, error=outcome.error
        )
        paused = outcome.status is NodeStatus.FAILED and self.pausing.failed(node_id)
        if halts and not paused:  # a pause does not halt: the rest waits for the resume
            self._halt_running(iteration, running)

    def _halt_running(
        self, iteration: int | None, running: dict[asyncio.Task[Outcome], str]
    ) -> None:
        self._halt(iteration)
        for task, other in running.items():
            if not self.plan.nodes[other].self_deciding:  # failure handlers go on
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

    # -- expressions ---------------------------------------------------------------------

    def _context(self, iteration: int | None) -> dict[str, Any]:
        return {
            **self.base_context,
            "nodes": self.state.nodes_context(),
            "loop": {"iteration": iteration},
        }

    def _evaluate(self, value: Any, iteration: int | None) -> Any:
        return render_value(value, self._context(iteration))

    def _outputs(self) -> dict[str, Any]:
        context = self._context(None)
        outputs: dict[str, Any] = {}
        for name, value in self.plan.outputs.items():
            try:
                outputs[name] = expr.render(value, context)
            except (expr.ExprSyntaxError, expr.ExprEvalError):
                outputs[name] = None
        return outputs


async def run_workflow(
    resolved: Mapping[str, Any],
    sink: ev.EventSink,
    *,
    execution_id: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run one execution; returns `{status, outputs, error}` (also sent as execution_finished)."""
    return await Runner(resolved, sink, execution_id=execution_id, environ=environ).execute()
