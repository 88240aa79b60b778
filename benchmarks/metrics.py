"""Overhead of what a run cost (issue 18) on W2, with ratios against floors of the same run.

    .venv/bin/python benchmarks/metrics.py [--repeat 21]

W2 is benchmarks/run.py's: 100 independent transform nodes plus a join.

1. Metrics, in the engine: W2 run in process (`run_workflow`, events to a list), alternating
   with per-node metrics on (as shipped) and off (`NodeMetrics` replaced by a class that
   reports nothing: no `metrics` in the events, nothing to total or record), `--repeat`
   pairs, each sample the mean of 10 runs; CPU time (the machine is shared: wall time is
   noise at this size); overhead = median over pairs of on / off - 1. Budget: < 5 %.
2. Tracing, end to end: cold `flowrun run W2 --json` with tracing off (the floor: the shipped
   default) and with `--otel` exporting to an OTLP/HTTP receiver this script runs on
   127.0.0.1, alternating, `--repeat` pairs; overhead = median of on / off - 1. Reported,
   no budget (the OpenTelemetry SDK's import is most of it).
3. Metrics in the history, on a SQLite file: ending a W2-sized execution (101 node rows,
   `HistoryStore.finish`) with its cost totals and the daily aggregates `flowrun stats` reads
   (`rows.add_totals`) and without them (the floor: `add_totals` a no-op), alternating,
   `--repeat` pairs; the difference is reported as a share of section 2's `flowrun run W2`
   with tracing off, and counts against the same budget as 1.
Exit code 1 when the budget of 1 (with 3 added) is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from flowrun_engine import attempts
from flowrun_engine.events import ListSink
from flowrun_engine.metrics import NodeMetrics
from flowrun_engine.scheduler import run_workflow

sys.path.insert(0, str(Path(__file__).parent))
from run import ENV, FLOWRUN, workloads

BUDGET = 0.05
RUNS_PER_SAMPLE = 10


class NoMetrics(NodeMetrics):
    """The floor: a node that measures nothing."""

    def to_event(self) -> dict[str, Any] | None:
        return None


def w2_resolved(folder: Path) -> dict[str, Any]:
    from flowrun.spec.loader import load_yaml
    from flowrun.spec.models import Workflow
    from flowrun.spec.resolve import resolve

    path = folder / "w2.workflow.yml"
    path.write_text(workloads()["W2"])
    data = load_yaml(path.read_text()).data
    return resolve(Workflow.model_validate(data), path)


def engine_seconds(resolved: dict[str, Any], metrics: type[NodeMetrics]) -> float:
    """CPU seconds of one in-process run (all of it is this process's: transform nodes), the
    mean of `RUNS_PER_SAMPLE` back to back: one run is ~10 ms, too short to time alone."""
    attempts.NodeMetrics = metrics  # type: ignore[attr-defined]
    started = time.process_time()
    for _ in range(RUNS_PER_SAMPLE):
        asyncio.run(run_workflow(resolved, ListSink(), environ=dict(os.environ)))
    return (time.process_time() - started) / RUNS_PER_SAMPLE


class Receiver:
    """An OTLP/HTTP endpoint that accepts every export (what a collector answers)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


def cold_run(path: Path, env: dict[str, str], *extra: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([*FLOWRUN, "run", str(path), "--json", *extra], env=env,
                          capture_output=True, cwd=path.parent)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the W2 run failed: {done.stderr.decode()[-500:]}")
    return time.perf_counter() - started


def pairs(repeat: int, on: Any, off: Any) -> tuple[list[float], list[float], list[float]]:
    ons, offs, ratios = [], [], []
    for index in range(repeat):
        first, second = (on, off) if index % 2 else (off, on)
        a, b = first(), second()
        t_on, t_off = (a, b) if first is on else (b, a)
        ons.append(t_on)
        offs.append(t_off)
        ratios.append(t_on / t_off)
    return ons, offs, ratios


def ending_ms(folder: Path, index: int, add_totals: Any) -> float:
    """Ms of ending a W2-sized execution (101 node rows) in the history at `folder`, with
    `add_totals` as the store's (the shipped one: its totals and the daily aggregates)."""
    from flowrun.history import rows
    from flowrun.history.store import HistoryStore

    async def one() -> float:
        store = await HistoryStore.open(folder / "history.sqlite3")
        try:
            execution_id = f"e{index}"
            await store.create_execution(
                execution_id=execution_id, workflow_id="w2", file="w2", trigger=None, inputs=None
            )
            for k in range(101):
                for name in ("node_started", "node_finished"):
                    event = {"event": name, "node": f"n{k:03d}", "attempt": 1, "duration_ms": 1}
                    await store.record_event(execution_id, {**event, "status": "succeeded"})
            await store.flush()
            started = time.perf_counter()
            await store.finish(execution_id, status="succeeded", outputs=None, error=None)
            return (time.perf_counter() - started) * 1000
        finally:
            await store.close()

    shipped, rows.add_totals = rows.add_totals, add_totals
    try:
        return asyncio.run(one())
    finally:
        rows.add_totals = shipped


async def _no_totals(conn: Any, execution_id: str) -> None:
    """The floor of section 3: an execution ends without totals or daily aggregates."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowrun-metrics-") as name:
        folder = Path(name)
        (folder / ".git").mkdir()
        resolved = w2_resolved(folder)
        engine_seconds(resolved, NodeMetrics)  # warm
        ons, offs, ratios = pairs(
            args.repeat,
            lambda: engine_seconds(resolved, NodeMetrics),
            lambda: engine_seconds(resolved, NoMetrics),
        )
        metrics_overhead = statistics.median(ratios) - 1
        print(
            f"W2 in the engine, metrics off (floor): {statistics.median(offs) * 1000:7.1f} ms cpu"
        )
        print(f"W2 in the engine, metrics on:          {statistics.median(ons) * 1000:7.1f} ms cpu"
              f"  overhead {metrics_overhead:+.1%} (budget < {BUDGET:.0%})")  # fmt: skip
        receiver = Receiver()
        env = {k: v for k, v in ENV.items() if not k.startswith("OTEL_")}
        env["XDG_CACHE_HOME"] = str(folder / "xdg")
        traced = {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}
        path = folder / "w2.workflow.yml"
        cold_run(path, env)  # warm: bytecode, the resolved cache
        cold_run(path, traced, "--otel")
        ons, offs, ratios = pairs(
            args.repeat, lambda: cold_run(path, traced, "--otel"), lambda: cold_run(path, env)
        )
        run_ms = statistics.median(offs) * 1000
        print(f"flowrun run W2, tracing off (floor):   {run_ms:7.1f} ms")
        print(f"flowrun run W2, tracing on (--otel):   {statistics.median(ons) * 1000:7.1f} ms"
              f"  overhead {statistics.median(ratios) - 1:+.1%}")  # fmt: skip
        receiver.httpd.shutdown()
        from flowrun.history.rows import add_totals

        samples = iter(range(10**6))
        ons, offs, _ = pairs(
            args.repeat,
            lambda: ending_ms(folder, next(samples), add_totals),
            lambda: ending_ms(folder, next(samples), _no_totals),
        )
        with_totals, without = statistics.median(ons), statistics.median(offs)
        history_share = (with_totals - without) / run_ms
        print(f"ending W2 in the history, no totals (floor): {without:6.2f} ms")
        print(f"ending W2 in the history, totals + daily:    {with_totals:6.2f} ms"
              f"  = {history_share:+.2%} of flowrun run W2")  # fmt: skip
        total = metrics_overhead + history_share
        ok = total < BUDGET
        print(f"metrics with tracing off: {total:+.1%} (engine + history), budget {BUDGET:.0%}: "
              f"{'met' if ok else 'MISSED'}")  # fmt: skip
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
