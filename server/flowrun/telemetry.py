"""OpenTelemetry traces of executions (extra `flowrun[otel]`), built from the history.

The engine stays stdlib-only: it knows nothing of tracing. When an execution has ended and
its events are recorded, `Tracing.export` reads its tree from the history and sends one trace
over OTLP/HTTP: a span for the execution, one per stage and one per node (with the times the
engine recorded), retries as span events, failures as span status ERROR, and for `llm` nodes
the GenAI semantic conventions (`gen_ai.operation.name`, `gen_ai.system`,
`gen_ai.request.model`, `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`). No span
holds an input, an output or a log: the trees are already redacted, and the spans take only
ids, types, statuses, counts and error messages. The trace id is stored with the execution
(`trace_id`) and shown in the tree.

On when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, or
with `flowrun run --otel` (the SDK's default endpoint, http://localhost:4318); the exporter
reads the standard `OTEL_*` variables (headers, timeout, service name).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

    from flowrun.history.interface import HistoryBackend

log = logging.getLogger(__name__)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SCOPE = "flowrun"
FAILED = ("failed", "timed_out", "interrupted")


def wanted(force: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    source = os.environ if environ is None else environ
    return force or any(source.get(name) for name in ENDPOINT_VARIABLES)


def from_environment(force: bool = False) -> Tracing | None:
    """A `Tracing` when asked for (`--otel`, an OTLP endpoint variable) and installed; else
    None, with a warning when it was asked for but `flowrun[otel]` is missing."""
    if not wanted(force):
        return None
    try:
        return Tracing()
    except ImportError:
        log.warning("OpenTelemetry export asked for, but flowrun[otel] is not installed")
        return None


class Tracing:
    def __init__(self, provider: TracerProvider | None = None) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        if provider is None:
            resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or
                                        "flowrun"})  # fmt: skip
            provider = TracerProvider(resource=resource)
            provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
        self.provider = provider
        self.tracer: Tracer = provider.get_tracer(SCOPE)

    async def export(self, store: HistoryBackend, execution_id: str) -> str | None:
        """Send the trace of an ended execution; store and return its trace id (hex)."""
        import asyncio

        try:
            await store.flush()
            tree = await store.execution_tree(execution_id)
            trace_id = await asyncio.to_thread(self.send, tree)
            await store.set_trace_id(execution_id, trace_id)
            return trace_id
        except Exception:  # tracing never fails a run
            log.exception("could not export the trace of execution %s", execution_id)
            return None

    def send(self, tree: Mapping[str, Any]) -> str:
        """The spans of one execution tree, exported now (blocking)."""
        root = self._span(f"flowrun.execution {tree.get('workflowId')}", tree, None)
        root.set_attributes(_execution_attributes(tree))
        for child in tree.get("children") or []:
            if child.get("kind") == "stage":
                stage = self._span(f"flowrun.stage {child.get('id')}", child, root)
                stage.set_attribute("flowrun.stage.id", str(child.get("id")))
                stage.set_attribute("flowrun.stage.status", str(child.get("status")))
                for node in child.get("children") or []:
                    self._node(node, stage)
                self._end(stage, child)
            else:
                self._node(child, root)
        self._end(root, tree)
        self.provider.force_flush()
        return f"{root.get_span_context().trace_id:032x}"

    def _span(self, name: str, item: Mapping[str, Any], parent: Span | None) -> Span:
        from opentelemetry import trace

        context = trace.set_span_in_context(parent) if parent is not None else None
        kind = trace.SpanKind.CLIENT if item.get("type") in ("llm", "http") else None
        return self.tracer.start_span(
            name,
            context=context,
            kind=kind or trace.SpanKind.INTERNAL,
            start_time=_ns(item.get("startedAt")),
        )

    def _node(self, node: Mapping[str, Any], parent: Span) -> None:
        if node.get("status") == "skipped" and not node.get("startedAt"):
            return  # never ran
        metrics = node.get("metrics") or {}
        is_llm = node.get("type") == "llm" and node.get("llmCalls")
        model = metrics.get("model")
        name = f"chat {model}" if is_llm and model else f"flowrun.node {node.get('id')}"
        span = self._span(name, node, parent)
        span.set_attributes(_node_attributes(node, metrics, bool(is_llm)))
        for retry in node.get("retries") or []:
            error = retry.get("error") or {}
            span.add_event(
                "retry",
                {
                    "flowrun.attempt": int(retry.get("attempt") or 0),
                    "error.type": str(error.get("type") or ""),
                    "error.message": str(error.get("message") or ""),
                },
            )
        self._end(span, node)

    def _end(self, span: Span, item: Mapping[str, Any]) -> None:
        from opentelemetry.trace import Status, StatusCode

        status = item.get("status")
        error = item.get("error")
        if status in FAILED:
            message = error.get("message") if isinstance(error, Mapping) else None
            span.set_status(Status(StatusCode.ERROR, str(message or status)))
            if isinstance(error, Mapping) and error.get("type"):
                span.set_attribute("error.type", str(error["type"]))
        elif status == "succeeded":
            span.set_status(Status(StatusCode.OK))
        finished = _ns(item.get("finishedAt"))
        started = _ns(item.get("startedAt"))
        span.end(end_time=max(finished, started) if finished and started else finished)


def _execution_attributes(tree: Mapping[str, Any]) -> dict[str, Any]:
    found = {
        "flowrun.execution.id": tree.get("id"),
        "flowrun.workflow.id": tree.get("workflowId"),
        "flowrun.execution.status": tree.get("status"),
        "flowrun.execution.mode": tree.get("mode"),
        "flowrun.llm_calls": tree.get("llmCalls"),
        "flowrun.input_tokens": tree.get("inputTokens"),
        "flowrun.output_tokens": tree.get("outputTokens"),
        "flowrun.cost_usd": tree.get("costUsd"),
    }
    return {key: value for key, value in found.items() if value is not None}


def _node_attributes(
    node: Mapping[str, Any], metrics: Mapping[str, Any], is_llm: bool
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "flowrun.node.id": node.get("id"),
        "flowrun.node.type": node.get("type"),
        "flowrun.node.status": node.get("status"),
        "flowrun.node.attempts": node.get("attempts"),
        "flowrun.node.cached": bool(node.get("cached")),
        "flowrun.cost_usd": node.get("costUsd"),
        "http.response.status_code": metrics.get("httpStatus"),
        "http.response.body.size": metrics.get("httpBytes"),
    }
    if is_llm:
        found.update(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.system": metrics.get("provider"),
                "gen_ai.provider.name": metrics.get("provider"),
                "gen_ai.request.model": metrics.get("model"),
                "gen_ai.response.model": metrics.get("model"),
                "gen_ai.usage.input_tokens": node.get("inputTokens"),
                "gen_ai.usage.output_tokens": node.get("outputTokens"),
            }
        )
    return {key: value for key, value in found.items() if value is not None}


def _ns(stamp: Any) -> int | None:
    """An ISO-8601 time of the tree as nanoseconds since the epoch."""
    if not isinstance(stamp, str):
        return None
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1_000_000) * 1000
