"""Queue mode on real servers: redis-server and PostgreSQL started by the tests, `flowrun
worker`s as separate processes with their own scratch folders (standing in for machines),
`flowrun batch --queue` and `flowrun stop --queue` as the user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fleet import LONG_NAP, NAP, batch, flowrun_env, query, sleepers, wait_for, workers
from real_services import Redis

pytestmark = pytest.mark.timeout(400)  # real servers, several processes, a loaded CI machine
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


def test_a_batch_through_two_workers_runs_each_row_once(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    pg_url = db
    (tmp_path / "chain.workflow.yml").write_text(CHAIN)
    (tmp_path / "rows.jsonl").write_text("".join(f'{{"n": {i}}}\n' for i in range(10)))
    with workers(tmp_path / "machines", redis.url, pg_url, ["w1", "w2"]):
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


def test_stop_an_execution_running_on_another_worker(tmp_path: Path, redis: Redis, db: str) -> None:
    pg_url = db
    (tmp_path / "nap.workflow.yml").write_text(NAP)
    (tmp_path / "rows.jsonl").write_text(f'{{"n": {LONG_NAP}}}\n' * 2)
    with workers(tmp_path / "machines", redis.url, pg_url, ["w1"]):
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
    assert sleepers() == []


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
SLOW_HOOK = f"""\
version: 1
id: slow
trigger: {{type: http, method: POST, path: /slow, timeout: 2s}}
nodes:
  - id: nap
    type: shell
    with:
      run: sleep {LONG_NAP}
"""


def test_serve_queue_runs_requests_on_a_worker_and_waits_through_the_history(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    import httpx

    from serve.served import Served

    site = tmp_path / "site"
    site.mkdir()
    (site / "hook.workflow.yml").write_text(HOOK)
    (site / "slow.workflow.yml").write_text(SLOW_HOOK)
    served = Served(site, "--queue", redis.url, "--db", db, env=flowrun_env())
    with workers(tmp_path / "machines", redis.url, db, ["w1"]):
        try:
            served.start(wait=False)
            wait_for(lambda: "serving on" in served.output() or served.process.poll() is not None)
            answer = httpx.post(f"{served.url}/double", json={"n": 21}, timeout=120)
            slow = httpx.post(f"{served.url}/slow", json={}, timeout=120)
            slow_id = slow.json()["executionId"]
            ended = f"SELECT status, worker FROM executions WHERE id = '{slow_id}'"
            wait_for(lambda: query(db, ended) != [("running", "w1@test")])
        finally:
            served.stop()
    assert answer.status_code == 200, served.output()
    assert answer.json() == {"out": "42"}
    execution_id = answer.headers["X-Flowrun-Execution-Id"]
    rows = query(db, f"SELECT status, mode, worker FROM executions WHERE id = '{execution_id}'")
    assert rows == [("succeeded", "production", "w1@test")]
    assert slow.status_code == 504, slow.text
    assert query(db, ended) == [("timed_out", "w1@test")]  # recorded by the worker that ran it
    assert sleepers() == []


def test_ctrl_c_on_batch_queue_stops_the_running_and_the_queued_rows(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    (tmp_path / "nap.workflow.yml").write_text(NAP)
    (tmp_path / "rows.jsonl").write_text(f'{{"n": {LONG_NAP}}}\n' * 5)
    with workers(tmp_path / "machines", redis.url, db, ["w1"]):
        proc = batch(tmp_path, "nap.workflow.yml", "--inputs", "rows.jsonl", "--queue",
                     redis.url, "--db", db)  # fmt: skip
        try:
            running = "SELECT count(*) FROM executions WHERE status = 'running' AND pgid > 0"
            wait_for(lambda: query(db, running) == [(1,)])
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, err
        wait_for(lambda: sleepers() == [], timeout=30)
        time.sleep(3)  # the worker takes the next task: revoked, or found ended
        assert sleepers() == []
        statuses = query(db, "SELECT status, error IS NOT NULL, count(*) FROM executions "
                             "GROUP BY 1, 2")  # fmt: skip
    assert statuses == [("stopped", True, 5)]
    assert query(db, "SELECT count(*) FROM execution_attempts") == [(0,)]
