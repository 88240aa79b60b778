"""One node of a run: its `when`, its rendered `with`, its attempts (retries, timeout) and events.

A node holds one of the run's `max_parallel` slots from `node_started` until its
`node_finished` (or `node_retry`: the wait before the next attempt frees the slot).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowrun_engine import containment, expr, prices
from flowrun_engine import events as ev
from flowrun_engine.cache import CachePolicy, ResultCache
from flowrun_engine.context import NodeContext
from flowrun_engine.environment import RunEnvironment
from flowrun_engine.errors import NodeError
from flowrun_engine.forkserver import ForkServer
from flowrun_engine.metrics import NodeMetrics
from flowrun_engine.nodes import runner_for
from flowrun_engine.plan import PlanNode
from flowrun_engine.state import NodeStatus


@dataclass
class Outcome:
    status: NodeStatus
    output: Any = None
    error: dict[str, Any] | None = None
    metrics: NodeMetrics | None = None


@dataclass(frozen=True)
class Workspace:
    env: RunEnvironment
    cwd: str
    scratch: str | None
    workflow_file: str | None
    execution_id: str
    forks: ForkServer  # python nodes' processes (started on the first)
    cache: ResultCache | None = None

    _loaded: list[prices.Prices] = field(default_factory=list, compare=False, repr=False)

    def prices(self) -> prices.Prices:
        """The run's price table, read at the first LLM call (`.flowrun/prices.toml`)."""
        if not self._loaded:
            self._loaded.append(prices.load(self.cwd))
        return self._loaded[0]


_HASHED = (ev.NODE_STARTED, ev.NODE_FINISHED)


class NodeExecutor:
    def __init__(
        self,
        emitter: ev.Emitter,
        workspace: Workspace,
        *,
        max_parallel: int,
        stopping: Callable[[], bool],
    ) -> None:
        self.emitter = emitter
        self.workspace = workspace
        self._slots = asyncio.Semaphore(max_parallel)
        self._stopping = stopping

    def emit(self, name: str, node: PlanNode, iteration: int | None, **fields: Any) -> None:
        if node.hash is not None and name in _HASHED:
            fields["config_hash"] = node.hash  # the history keeps it with the node's row
        self.emitter.emit(name, node=node.id, stage=node.stage, iteration=iteration, **fields)

    async def run(
        self,
        node: PlanNode,
        iteration: int | None,
        context: Mapping[str, Any],
        status: Mapping[str, bool] | None = None,
    ) -> Outcome:
        """Never raises: a cancelled node finishes `stopped` (started) or `skipped`.

        `status` answers the status functions in `when` (`ExecutionState.status_functions`).
        """
        started: list[float] = []
        try:
            if node.when is not None and not self._when(node, context, status):
                return self.finish(node, iteration, Outcome(NodeStatus.SKIPPED), attempt=0)
            params = render_value(dict(node.params), context)
            cache = self.workspace.cache
            if cache is not None and node.cache is not None and cache.applies(node.cache):
                return await self._cached(cache, node, node.cache, iteration, params, started)
            return await self._attempts(node, iteration, params, started)
        except (expr.ExprSyntaxError, expr.ExprEvalError) as exc:
            error = {
                "type": "ExecutionError",
                "message": f"node `{node.id}`: an expression failed: {exc}",
                "suggestion": "fix the expression; missing values are null, use default(x, y)",
            }
            return self.finish(node, iteration, Outcome(NodeStatus.FAILED, error=error), 0)
        except asyncio.CancelledError:
            ended = NodeStatus.STOPPED if started else NodeStatus.SKIPPED
            return self.finish(node, iteration, Outcome(ended), started=started)

    def _when(
        self, node: PlanNode, context: Mapping[str, Any], status: Mapping[str, bool] | None
    ) -> bool:
        """The node's `when`; without a status function it implies `success()`, which the
        state already checked for the nodes it uses (GitHub Actions' implicit default)."""
        status = status or {"success": True, "failure": False, "cancelled": False}
        return truthy(render_value(node.when, {**context, expr.STATUS_KEY: status}))

    async def _cached(
        self,
        cache: ResultCache,
        node: PlanNode,
        policy: CachePolicy,
        iteration: int | None,
        params: dict[str, Any],
        started: list[float],
    ) -> Outcome:
        """A stored result of the same request, else the attempts (a success is stored)."""
        key = cache.key(node.id, node.type, params)
        entry = cache.get(key, policy)
        if entry is not None:
            hit = Outcome(NodeStatus.SUCCEEDED, output=entry["output"])
            return self.finish(node, iteration, hit, attempt=0, cached=True)
        outcome = await self._attempts(node, iteration, params, started)
        if outcome.status is NodeStatus.SUCCEEDED:
            measured = outcome.metrics.to_event() if outcome.metrics is not None else None
            cache.put(key, node.id, outcome.output, measured)
        return outcome

    async def _attempts(
        self, node: PlanNode, iteration: int | None, params: dict[str, Any], started: list[float]
    ) -> Outcome:
        attempt = 1
        metrics = NodeMetrics(self.workspace.prices)
        while True:
            async with self._slots:  # held until node_finished/node_retry is written
                started.append(time.monotonic())
                self.emit(ev.NODE_STARTED, node, iteration, attempt=attempt, input=params)
                try:
                    output = await self._attempt(node, iteration, params, attempt, metrics)
                except NodeError as exc:
                    error = {**exc.to_dict(), "node": node.id}
                    failure = Outcome(NodeStatus.FAILED, exc.output, error, metrics)
                else:
                    outcome = Outcome(NodeStatus.SUCCEEDED, output=output, metrics=metrics)
                    return self.finish(node, iteration, outcome, attempt, started)
                if attempt >= node.retry.attempts or self._stopping():
                    return self.finish(node, iteration, failure, attempt, started)
                delay = node.retry.delay(attempt)
                self.emit(ev.NODE_RETRY, node, iteration, attempt=attempt, delay=delay, error=error)
            await asyncio.sleep(delay)
            attempt += 1

    async def _attempt(
        self,
        node: PlanNode,
        iteration: int | None,
        params: dict[str, Any],
        attempt: int,
        metrics: NodeMetrics,
    ) -> Any:
        ctx = self._node_context(node, iteration, attempt, metrics)
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

    def _node_context(
        self, node: PlanNode, iteration: int | None, attempt: int, metrics: NodeMetrics
    ) -> NodeContext:
        def on_log(stream: str, text: str) -> None:
            self.emit(ev.NODE_LOG, node, iteration, stream=stream, text=text)

        ws = self.workspace
        token = containment.node_token(ws.execution_id, node.id, attempt, iteration)
        return NodeContext(
            node_id=node.id,
            attempt=attempt,
            timeout=node.timeout,
            env={**ws.env.variables, "FLOWRUN_NODE_ID": node.id},
            token=token,
            cwd=ws.cwd,
            scratch=ws.scratch,
            secrets=ws.env.secrets,
            on_log=on_log,
            workflow_file=ws.workflow_file,
            code_line=node.code_line,
            forks=ws.forks,
            metrics=metrics,
        )

    def finish(
        self,
        node: PlanNode,
        iteration: int | None,
        outcome: Outcome,
        attempt: int = 1,
        started: list[float] | None = None,
        *,
        cached: bool = False,
    ) -> Outcome:
        duration = (time.monotonic() - started[0]) * 1000 if started else 0.0
        if outcome.status is NodeStatus.FAILED and self._stopping():
            outcome = Outcome(NodeStatus.STOPPED, outcome.output, metrics=outcome.metrics)
        measured = outcome.metrics.to_event() if outcome.metrics is not None else None
        extra: dict[str, Any] = {"metrics": measured} if measured else {}
        if cached:
            extra["cached"] = True
        self.emit(
            ev.NODE_FINISHED,
            node,
            iteration,
            status=outcome.status.value,
            output=outcome.output,
            error=outcome.error,
            attempt=len(started) if started else attempt,
            duration_ms=round(duration),
            **extra,
        )
        return outcome


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """`${{ }}` templates anywhere in `value`; a string without `${{` is one bare expression."""
    if isinstance(value, str) and "${{" not in value:
        return expr.evaluate(expr.parse(value), context)
    return expr.render(value, context)


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
