"""Three workers (separate processes and scratch folders, standing in for machines) under a
large batch: every execution recorded exactly once as succeeded, a worker SIGKILLed mid-batch,
Redis restarted mid-batch. `FLOWRUN_FLEET_EXECUTIONS` (default 1,000) sets the batch's size.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from fleet import batch, machine_down, query, wait_for, workers
from real_services import Redis, redis_server

pytestmark = pytest.mark.timeout(900)
EXECUTIONS = int(os.environ.get("FLOWRUN_FLEET_EXECUTIONS") or 1000)
NAMES = ["w1", "w2", "w3"]
FIVE = """\
version: 1
id: five
inputs:
  n: {type: number}
nodes:
  - id: a
    type: transform
    with: {value: "${{ inputs.n }}"}
""" + "".join(
    f"""  - id: {node}
    type: transform
    needs: [{before}]
    with: {{value: "${{{{ nodes.{before}.output + 1 }}}}"}}
"""
    for before, node in zip("abcd", "bcde", strict=True)
)  # fmt: skip
FIVE += "outputs:\n  out: ${{ nodes.e.output }}\n"


SLOWER = FIVE.replace(  # one more node, that takes a while: the executions overlap the events
    "outputs:", "  - id: nap\n    type: shell\n    needs: [e]\n    with: {run: sleep 0.3}\noutputs:"
)


def rows(folder: Path, count: int, workflow: str = FIVE) -> None:
    (folder / "five.workflow.yml").write_text(workflow)
    (folder / "rows.jsonl").write_text("".join(f'{{"n": {i}}}\n' for i in range(count)))


def run_batch(folder: Path, queue: str, db: str) -> subprocess.Popen[str]:
    return batch(folder, "five.workflow.yml", "--inputs", "rows.jsonl", "--queue", queue,
                 "--db", db)  # fmt: skip


def check_results(out: str, count: int) -> None:
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["outputs"] for r in results] == [{"out": i + 4} for i in range(count)]


def test_a_thousand_executions_on_three_workers_each_recorded_once(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    rows(tmp_path, EXECUTIONS)
    with workers(tmp_path / "machines", redis.url, db, NAMES, "--concurrency", "2"):
        proc = run_batch(tmp_path, redis.url, db)
        out, err = proc.communicate(timeout=840)
    assert proc.returncode == 0, err
    check_results(out, EXECUTIONS)
    recorded = query(db, "SELECT status, attempt, count(*) FROM executions GROUP BY 1, 2")
    assert recorded == [("succeeded", 1, EXECUTIONS)]
    assert query(db, "SELECT count(*) FROM execution_attempts") == [(0,)]
    per_worker = dict(query(db, "SELECT worker, count(*) FROM executions GROUP BY 1"))
    assert set(per_worker) == {f"{name}@test" for name in NAMES}
    nodes = query(db, "SELECT status, count(*) FROM node_executions GROUP BY 1")
    assert nodes == [("succeeded", 5 * EXECUTIONS)]


def test_a_worker_sigkilled_mid_batch_its_executions_run_again_elsewhere(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    count = 120
    rows(tmp_path, count, SLOWER)
    on_w1 = "SELECT count(*) FROM executions WHERE worker = 'w1@test' AND status = 'running'"
    with workers(tmp_path / "machines", redis.url, db, NAMES, "--concurrency", "2") as pids:
        proc = run_batch(tmp_path, redis.url, db)
        wait_for(lambda: query(db, "SELECT count(*) FROM executions WHERE status = 'succeeded'")
                 >= [(20,)] and query(db, on_w1) >= [(1,)])  # fmt: skip
        machine_down(pids["w1"])
        out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    check_results(out, count)
    attempts = query(db, "SELECT execution_id, attempt, worker, status FROM execution_attempts")
    assert attempts, "the killed worker was running an execution"
    assert {row[1:] for row in attempts} == {(1, "w1@test", "interrupted")}
    again = query(db, "SELECT status, attempt, worker FROM executions WHERE id IN ({})".format(
        ", ".join(f"'{row[0]}'" for row in attempts)))  # fmt: skip
    assert {row[:2] for row in again} == {("succeeded", 2)}
    assert "w1@test" not in {row[2] for row in again}
    assert query(db, "SELECT status, count(*) FROM executions GROUP BY 1") == [("succeeded", count)]


def test_redis_restarted_mid_batch_the_batch_completes(tmp_path: Path, db: str) -> None:
    count = 120
    rows(tmp_path, count, SLOWER)
    done = "SELECT count(*) FROM executions WHERE status = 'succeeded'"
    sent = "SELECT count(*) FROM executions"
    with (
        redis_server(tmp_path / "redis", persistent=True) as redis,
        workers(tmp_path / "machines", redis.url, db, NAMES, "--concurrency", "2"),
    ):
        proc = run_batch(tmp_path, redis.url, db)
        wait_for(lambda: query(db, sent) == [(count,)] and query(db, done) >= [(20,)])
        redis.stop()
        assert query(db, done) < [(count,)], "the batch ended before Redis stopped"
        redis.start()  # same port, same folder: the queue is as it was
        out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    check_results(out, count)
    assert query(db, "SELECT status, count(*) FROM executions GROUP BY 1") == [("succeeded", count)]
