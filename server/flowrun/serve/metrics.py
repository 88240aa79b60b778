"""`GET /metrics`: Prometheus counters, gauges and histograms of one server.

Labels are bounded: a route is its template (`/orders/{id}`), never the raw path, and no
label holds a header, a body or a secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

UNMATCHED = "<unmatched>"
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self, queue_depth: Callable[[], float], running: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "flowrun_http_requests",
            "HTTP requests answered, by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "flowrun_http_request_duration_seconds",
            "Time to answer a request, by route.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.executions = Counter(
            "flowrun_executions",
            "Production executions ended, by workflow and status.",
            ["workflow", "status"],
            registry=self.registry,
        )
        self.execution_seconds = Histogram(
            "flowrun_execution_duration_seconds",
            "Time from a slot to the end of an execution, by workflow.",
            ["workflow"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._add_cost_counters()
        queue = Gauge(
            "flowrun_queue_depth", "Accepted executions waiting for a slot.", registry=self.registry
        )
        queue.set_function(queue_depth)
        children = Gauge(
            "flowrun_running_children", "Engine children running.", registry=self.registry
        )
        children.set_function(running)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def execution(self, workflow: str, status: str, seconds: float) -> None:
        self.executions.labels(workflow, status).inc()
        self.execution_seconds.labels(workflow).observe(seconds)

    def _add_cost_counters(self) -> None:
        """What runs cost (issue 18): the history's per-node metrics as counters."""
        llm = ["workflow", "provider", "model"]
        self.llm_calls = Counter(
            "flowrun_llm_calls", "LLM calls made by nodes.", llm, registry=self.registry
        )
        self.input_tokens = Counter(
            "flowrun_llm_input_tokens", "Input tokens the providers reported.", llm,
            registry=self.registry,
        )  # fmt: skip
        self.output_tokens = Counter(
            "flowrun_llm_output_tokens", "Output tokens the providers reported.", llm,
            registry=self.registry,
        )  # fmt: skip
        self.cost = Counter(
            "flowrun_cost_usd", "Estimated cost in USD of the calls with a known price.",
            ["workflow"], registry=self.registry,
        )  # fmt: skip
        self.cache_hits = Counter(
            "flowrun_cache_hits", "Nodes answered from the cache (`cache:`).", ["workflow"],
            registry=self.registry,
        )  # fmt: skip

    def node(self, workflow: str, event: Mapping[str, Any]) -> None:
        """A `node_finished` event: its metrics (`flowrun_engine.metrics`) and cache hit."""
        if event.get("cached"):
            self.cache_hits.labels(workflow).inc()
        measured = event.get("metrics")
        if not isinstance(measured, Mapping) or not measured.get("llm_calls"):
            return
        labels = (workflow, str(measured.get("provider") or ""), str(measured.get("model") or ""))
        self.llm_calls.labels(*labels).inc(_amount(measured.get("llm_calls")))
        self.input_tokens.labels(*labels).inc(_amount(measured.get("input_tokens")))
        self.output_tokens.labels(*labels).inc(_amount(measured.get("output_tokens")))
        if measured.get("cost_usd") is not None:
            self.cost.labels(workflow).inc(_amount(measured.get("cost_usd")))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _amount(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and value > 0 else 0.0
