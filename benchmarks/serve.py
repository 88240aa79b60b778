"""`flowrun serve` under load, side by side with its floors and n8n, same client, same load.

    .venv/bin/python benchmarks/serve.py [--requests 2000] [--concurrency 50]
                                         [--rss-requests 10000] [--no-n8n]

One client (httpx, asyncio, keep-alive, `--concurrency` connections, a bounded loop over
`--requests` requests, loopback only) measures each target in turn; every response body is
checked against the value its request must give. Targets:
* flowrun serve: a one-node and a 20-node chain workflow, `respond: wait`;
* the framework floor: a bare FastAPI endpoint that returns at once (uvicorn);
* the isolation floor: a FastAPI endpoint that spawns `python -c pass` per request;
* n8n (benchmarks/serve_n8n.py): the same two workflows as Webhook (responseMode
  lastNode) → Set node(s), installed from the npm registry into ~/.cache/flowrun-bench.
"lost" = 2xx answers − executions in the target's history (flowrun, n8n). "rss" is the
server process after the run; for flowrun one-node after `--rss-requests` requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve_n8n

PYTHON = sys.executable
_SCRIPT = Path(PYTHON).parent / "flowrun"
FLOWRUN = [str(_SCRIPT)] if _SCRIPT.exists() else [PYTHON, "-m", "flowrun"]
Check = Callable[[int, Any], bool]

ONE = """\
version: 1
trigger: {type: http, method: POST, path: /one}
nodes:
  - id: a
    type: transform
    with: {value: {ok: true, n: "${{ trigger.body.n }}"}}
outputs:
  result: ${{ nodes.a.output }}
"""


def twenty() -> str:
    nodes = "  - {id: n0, type: transform, with: {value: '${{ trigger.body.n }}'}}\n" + "".join(
        f"  - {{id: n{i}, type: transform, needs: [n{i - 1}], "
        f"with: {{value: '${{{{ nodes.n{i - 1}.output + 1 }}}}'}}}}\n"
        for i in range(1, 20)
    )
    head = "version: 1\ntrigger: {type: http, method: POST, path: /twenty}\nnodes:\n"
    return head + nodes + "outputs:\n  result: ${{ nodes.n19.output }}\n"


FLOORS = """\
import asyncio, sys
from fastapi import FastAPI
app = FastAPI()

@app.post("/bare")
async def bare(body: dict) -> dict:
    return {"result": {"ok": True, "n": body["n"]}}

@app.post("/spawn")
async def spawn(body: dict) -> dict:
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await child.wait()
    return {"result": {"ok": True, "n": body["n"]}}
"""


def one_ok(n: int, body: Any) -> bool:
    return bool(body == {"result": {"ok": True, "n": n}})


def twenty_ok(n: int, body: Any) -> bool:
    return bool(body == {"result": n + 19})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def load(url: str, requests: int, concurrency: int, check: Check) -> dict[str, Any]:
    """`requests` POSTs of {"n": i} over `concurrency` kept-alive connections."""
    latencies: list[float] = []
    errors = 0
    ok = 0
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120.0) as client:

        async def worker() -> None:
            nonlocal errors, ok
            for n in counter:
                started = time.perf_counter()
                try:
                    answer = await client.post(url, json={"n": n})
                    good = answer.status_code == 200 and check(n, answer.json())
                except (httpx.HTTPError, ValueError):
                    good = False
                latencies.append(time.perf_counter() - started)
                ok += good
                errors += not good

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": requests / elapsed,
        "p50": _pct(latencies, 50),
        "p95": _pct(latencies, 95),
        "p99": _pct(latencies, 99),
        "errors": errors,
        "ok": ok,
    }


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * pct / 100))]


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode})")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_flowrun(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    folder = work / "flows"
    folder.mkdir()
    (folder / "one.workflow.yml").write_text(ONE)
    (folder / "twenty.workflow.yml").write_text(twenty())
    port, db = free_port(), work / "history.sqlite3"
    command = [*FLOWRUN, "serve", str(folder), "--port", str(port), "--db", str(db)]
    command += ["--queue-size", "100000", "--retention", "1000000", "--warm", str(args.warm)]
    if args.max_concurrent:
        command += ["--max-concurrent", str(args.max_concurrent)]
    with (work / "serve.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    rows: list[dict[str, Any]] = []
    try:
        wait_ready(f"{base}/healthz", process)
        for name, path, check in (
            ("flowrun serve, 1 node", "/one", one_ok),
            ("flowrun serve, 20 nodes", "/twenty", twenty_ok),
        ):
            before = _count(db, path)
            row = asyncio.run(load(base + path, args.requests, args.concurrency, check))
            row["lost"] = row["ok"] - (_count(db, path) - before)
            row["name"], row["rss"] = name, rss_mb(process.pid)
            rows.append(row)
        if args.rss_requests > 0:
            extra = max(0, args.rss_requests - 2 * args.requests)
            if extra:
                asyncio.run(load(base + "/one", extra, args.concurrency, one_ok))
            rows[0]["rss"] = rss_mb(process.pid)
            rows[0]["rss_after"] = args.rss_requests
    finally:
        stop(process)
    return rows


def _count(db: Path, path: str) -> int:
    workflow = path.strip("/")
    with sqlite3.connect(db, timeout=30) as conn:
        row = conn.execute(
            "SELECT count(*) FROM executions WHERE workflow_id = ? AND mode = 'production' "
            "AND status = 'succeeded'",
            (workflow,),
        ).fetchone()
    return int(row[0])


def run_floors(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    (work / "floors.py").write_text(FLOORS)
    port = free_port()
    command = [PYTHON, "-m", "uvicorn", "floors:app", "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(command, cwd=work)
    rows: list[dict[str, Any]] = []
    try:
        wait_ready(f"http://127.0.0.1:{port}/docs", process)
        for name, path in (("bare FastAPI (framework floor)", "/bare"),
                           ("FastAPI + python -c pass (isolation floor)", "/spawn")):  # fmt: skip
            url = f"http://127.0.0.1:{port}{path}"
            row = asyncio.run(load(url, args.requests, args.concurrency, one_ok))
            row.update(name=name, lost=None, rss=rss_mb(process.pid))
            rows.append(row)
    finally:
        stop(process)
    return rows


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\n{args.requests} requests, concurrency {args.concurrency}, keep-alive, loopback, "
        f"{os.cpu_count()} CPUs; every body checked\n"
    )
    header = f"{'target':<44} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    print(header + f" {'errors':>6} {'lost':>5} {'rss MB':>7}")
    for row in rows:
        if "skipped" in row:
            print(f"{row['name']:<44} skipped: {row['skipped']}")
            continue
        lost = "-" if row.get("lost") is None else str(row["lost"])
        rss = f"{row['rss']:.0f}" + (f" @{row['rss_after']}" if row.get("rss_after") else "")
        print(
            f"{row['name']:<44} {row['rps']:>7.1f} {row['p50'] * 1000:>8.0f} "
            f"{row['p95'] * 1000:>8.0f} {row['p99'] * 1000:>8.0f} {row['errors']:>6} "
            f"{lost:>5} {rss:>7}"
        )


def verdicts(rows: list[dict[str, Any]]) -> list[str]:
    by = {row["name"]: row for row in rows if "skipped" not in row}
    one, chain = by["flowrun serve, 1 node"], by["flowrun serve, 20 nodes"]
    iso = by["FastAPI + python -c pass (isolation floor)"]
    lines = [
        _verdict("1 node: p50 <= isolation floor p50", one["p50"] <= iso["p50"]),
        _verdict("p99 < 3 x p50 (1 node)", one["p99"] < 3 * one["p50"]),
        _verdict("p99 < 3 x p50 (20 nodes)", chain["p99"] < 3 * chain["p50"]),
        _verdict("0 errors, 0 lost", all(r["errors"] == 0 and not r["lost"] for r in (one, chain))),
        _verdict(f"server RSS < 150 MB ({one['rss']:.0f} MB)", one["rss"] < 150),
    ]
    n8n_one, n8n_chain = by.get("n8n, 1 node"), by.get("n8n, 20 nodes")
    if n8n_one and n8n_chain:
        ratio_one, ratio_chain = one["rps"] / n8n_one["rps"], chain["rps"] / n8n_chain["rps"]
        lines.append(_verdict(f"1 node >= 5x n8n ({ratio_one:.1f}x)", ratio_one >= 5))
        lines.append(_verdict(f"20 nodes >= 5x n8n ({ratio_chain:.1f}x)", ratio_chain >= 5))
        ceiling = by["bare FastAPI (framework floor)"]["rps"] / n8n_one["rps"]
        lines.append(f"  note  the framework floor itself does {ceiling:.1f}x n8n's 1-node req/s")
    return lines


def _verdict(text: str, ok: bool) -> str:
    return f"  {'PASS' if ok else 'FAIL'}  {text}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rss-requests", type=int, default=10000)
    parser.add_argument("--warm", type=int, default=2)
    parser.add_argument("--max-concurrent", type=int, default=0, help="default: the server's")
    parser.add_argument("--no-n8n", action="store_true", help="skip n8n")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowrun-bench-serve-") as tmp:
        work = Path(tmp)
        rows = run_flowrun(args, work)
        rows += run_floors(args, work)
        if args.no_n8n:
            rows.append({"name": "n8n", "skipped": "--no-n8n"})
        else:
            rows += serve_n8n.run(args, work, load, one_ok, twenty_ok)
    print_table(rows, args)
    print("\ntargets:")
    print("\n".join(verdicts(rows)))
    _ = statistics  # imported for readers comparing runs in a REPL
    return 0


if __name__ == "__main__":
    sys.exit(main())
