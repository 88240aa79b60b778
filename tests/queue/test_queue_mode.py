"""Queue mode on real servers: redis-server and PostgreSQL started by the tests, `flowrun
worker`s as separate processes with their own scratch folders (standing in for machines),
`flowrun batch --queue` and `flowrun stop --queue` as the user runs them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from flowrun.history.store import HistoryStore
from real_services import Redis, free_port, redis_server

pytestmark = pytest.mark.timeout(400)  # real servers, several processes, a loaded CI machine
VISIBILITY = "12"  # seconds before the task of a dead worker is delivered again
CHAIN = """\
version: 1
id: chain
inputs:
  n: {type: number}
nodes:
  - id: double
    type: shell
    with:
      run: echo $((N*2))
      env: {N: "${{ inputs.n }}"}
  - id: plus
    type: shell
    needs: [double]
    with:
      run: echo $((D+1))
      env: {D: "${{ nodes.double.output.stdout }}"}
outputs:
  out: ${{ nodes.plus.output.stdout }}
"""
NAP = """\
version: 1
id: nap
inputs:
  n: {type: number}
nodes:
  - id: nap
    type: shell
    with:
      run: sleep ${{ inputs.n }}
"""


@pytest.fixture
def db(pg_url: str) -> str:
    """A fresh PostgreSQL history, its schema created."""

    async def create() -> None:
        await (await HistoryStore.open(pg_url)).close()

    asyncio.run(create())
    return pg_url


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    with redis_server(tmp_path / "redis") as server:
        yield server


def flowrun_env() -> dict[str, str]:
    return {**os.environ, "FLOWRUN_QUEUE_VISIBILITY": VISIBILITY}


@contextlib.contextmanager
def workers(folder: Path, redis: Redis, db: str, names: list[str]) -> Iterator[dict[str, int]]:
    """`flowrun worker`s, each in its own session and scratch folder; stopped by pid."""
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name in names:
        scratch = folder / name
        scratch.mkdir(parents=True, exist_ok=True)
        log = (scratch / "worker.log").open("wb")
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "flowrun", "worker", "--queue", redis.url, "--db", db,
             "--name", f"{name}@test", "--concurrency", "1"],
            cwd=scratch, env={**flowrun_env(), "TMPDIR": str(scratch)}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield {name: proc.pid for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def batch(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowrun", "batch", *args], cwd=folder, env=flowrun_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def query(db: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(db) as conn:
        return conn.execute(sql).fetchall()


def wait_for(check: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_batch_through_two_workers_runs_each_row_once(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    pg_url = db
    (tmp_path / "chain.workflow.yml").write_text(CHAIN)
    (tmp_path / "rows.jsonl").write_text("".join(f'{{"n": {i}}}\n' for i in range(10)))
    with workers(tmp_path / "machines", redis, pg_url, ["w1", "w2"]):
        proc = batch(tmp_path, "chain.workflow.yml", "--inputs", "rows.jsonl", "--queue",
                     redis.url, "--db", pg_url)  # fmt: skip
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["outputs"] for r in results] == [{"out": str(2 * i + 1)} for i in range(10)]
    rows = query(pg_url, "SELECT status, mode, worker, attempt FROM executions")
    assert len(rows) == 10
    assert {row[:2] for row in rows} == {("succeeded", "batch")}
    assert {row[2] for row in rows} <= {"w1@test", "w2@test"}
    assert {row[3] for row in rows} == {1}
    assert query(pg_url, "SELECT count(*) FROM execution_attempts") == [(0,)]


def test_a_sigkilled_worker_leaves_an_interrupted_attempt_and_the_batch_completes(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    pg_url = db
    (tmp_path / "nap.workflow.yml").write_text(NAP)
    (tmp_path / "rows.jsonl").write_text('{"n": 4}\n{"n": 4.2}\n')
    on_w1 = "FROM executions WHERE worker = 'w1@test' AND status = 'running' AND pgid > 0"
    with workers(tmp_path / "machines", redis, pg_url, ["w1", "w2"]) as pids:
        proc = batch(tmp_path, "nap.workflow.yml", "--inputs", "rows.jsonl", "--queue",
                     redis.url, "--db", pg_url)  # fmt: skip
        wait_for(lambda: query(pg_url, f"SELECT count(*) {on_w1}") == [(1,)])
        ((victim, pgid),) = query(pg_url, f"SELECT id, pgid {on_w1}")
        os.killpg(pids["w1"], signal.SIGKILL)  # the worker and its pool process
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pgid), signal.SIGKILL)  # its engine (the machine went down)
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert [json.loads(line)["status"] for line in out.splitlines()] == ["succeeded"] * 2
    final = query(pg_url, f"SELECT status, worker, attempt FROM executions WHERE id = '{victim}'")
    assert final == [("succeeded", "w2@test", 2)]
    earlier = query(pg_url, "SELECT execution_id, attempt, worker, status FROM execution_attempts")
    assert earlier == [(victim, 1, "w1@test", "interrupted")]


def test_stop_an_execution_running_on_another_worker(tmp_path: Path, redis: Redis, db: str) -> None:
    pg_url = db
    (tmp_path / "nap.workflow.yml").write_text(NAP)
    (tmp_path / "rows.jsonl").write_text('{"n": 3571.5}\n{"n": 3571.5}\n')
    with workers(tmp_path / "machines", redis, pg_url, ["w1"]):
        proc = batch(tmp_path, "nap.workflow.yml", "--inputs", "rows.jsonl", "--queue",
                     redis.url, "--db", pg_url)  # fmt: skip
        running = "SELECT id, pgid FROM executions WHERE status = 'running' AND pgid IS NOT NULL"
        wait_for(lambda: len(query(pg_url, running)) == 1)
        ((execution_id, pgid),) = query(pg_url, running)
        ((queued,),) = query(pg_url, "SELECT id FROM executions WHERE status = 'queued'")
        for target in (execution_id, queued):
            stop = subprocess.run(
                [sys.executable, "-m", "flowrun", "stop", target, "--queue", redis.url,
                 "--db", pg_url], cwd=tmp_path, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert stop.returncode == 0, stop.stderr
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert [json.loads(line)["status"] for line in out.splitlines()] == ["stopped", "stopped"]
    with pytest.raises(ProcessLookupError):
        os.killpg(int(pgid), 0)  # the engine and its node's processes are gone


def test_unreachable_postgres_or_redis_is_a_clear_error(tmp_path: Path, redis: Redis) -> None:
    down = f"postgresql://w:topsecret@127.0.0.1:{free_port()}/db"
    done = subprocess.run(
        [sys.executable, "-m", "flowrun", "worker", "--queue", redis.url, "--db", down],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Cannot reach the PostgreSQL history postgresql://w:***@" in done.stderr
    assert "topsecret" not in done.stderr + done.stdout


HOOK = """\
version: 1
id: hook
trigger:
  type: http
  method: POST
  path: /double
inputs:
  n: {type: number, default: 1}
nodes:
  - id: double
    type: shell
    with:
      run: echo $((N*2))
      env: {N: "${{ trigger.body.n }}"}
outputs:
  out: ${{ nodes.double.output.stdout }}
"""


def test_serve_queue_runs_requests_on_a_worker_and_waits_through_the_history(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    import httpx

    from serve.served import Served

    site = tmp_path / "site"
    site.mkdir()
    (site / "hook.workflow.yml").write_text(HOOK)
    served = Served(site, "--queue", redis.url, "--db", db, env=flowrun_env())
    with workers(tmp_path / "machines", redis, db, ["w1"]):
        try:
            served.start(wait=False)
            wait_for(lambda: "serving on" in served.output() or served.process.poll() is not None)
            answer = httpx.post(f"{served.url}/double", json={"n": 21}, timeout=120)
        finally:
            served.stop()
    assert answer.status_code == 200, served.output()
    assert answer.json() == {"out": "42"}
    execution_id = answer.headers["X-Flowrun-Execution-Id"]
    rows = query(db, f"SELECT status, mode, worker FROM executions WHERE id = '{execution_id}'")
    assert rows == [("succeeded", "production", "w1@test")]
