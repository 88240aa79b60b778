"""`GET /metrics`: Prometheus counters, gauges and histograms of one server.

Labels are bounded: a route is its template (`/orders/{id}`), never the raw path, and no
label holds a header, a body or a secret.
"""

from __future__ import annotations

from collections.abc import Callable

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

    def render(self) -> bytes:
        return generate_latest(self.registry)
