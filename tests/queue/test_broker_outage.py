"""Redis away for longer than 30 s in the middle of a batch: the submitter sends again what
the broker did not take, the workers reconnect, and every execution is recorded once. Real
redis-server (persistent, as a broker must be) and PostgreSQL, workers as processes."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import redis as redis_py

from fleet import batch, query, wait_for, workers
from flowrun.queue.app import QUEUE, make_app
from flowrun.queue.message import Delivery
from flowrun.queue.submit import send_all
from real_services import redis_server

pytestmark = pytest.mark.timeout(240)
OUTAGE = 32.0  # seconds: beyond Celery's and the worker's longest pause between two tries
SLOW = """\
version: 1
id: slow
inputs:
  n: {type: number}
nodes:
  - id: plus
    type: transform
    with: {value: "${{ inputs.n + 1 }}"}
  - id: nap
    type: shell
    needs: [plus]
    with: {run: sleep 0.3}
outputs:
  out: ${{ nodes.plus.output }}
"""


def delivery(index: int) -> Delivery:
    return {"execution_id": f"e{index:04d}", "file": "/w.workflow.yml", "text": SLOW,
            "inputs": {"n": index}, "trigger": None, "mode": "batch", "timeout": None}  # fmt: skip


def test_tasks_sent_while_redis_is_down_reach_it_once_it_is_back(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as server:
        app = make_app(server.url)
        server.stop()
        tries: list[int] = []
        sender = threading.Thread(
            target=lambda: tries.append(
                send_all(app, [delivery(i) for i in range(50)], threading.Event())
            )
        )
        sender.start()
        time.sleep(2.0)
        assert sender.is_alive() and tries == [], "it waits for the broker"
        server.start()  # the same port
        sender.join(60)
        queued = [json.loads(m) for m in redis_py.Redis.from_url(server.url).lrange(QUEUE, 0, -1)]
    assert tries and tries[0] >= 2
    ids = sorted(message["headers"]["id"] for message in queued)
    assert ids == [f"e{i:04d}" for i in range(50)]  # each once, with its execution id


def test_redis_down_longer_than_30s_mid_batch_each_execution_recorded_once(
    tmp_path: Path, db: str
) -> None:
    count = 100
    (tmp_path / "slow.workflow.yml").write_text(SLOW)
    (tmp_path / "rows.jsonl").write_text("".join(f'{{"n": {i}}}\n' for i in range(count)))
    done = "SELECT count(*) FROM executions WHERE status = 'succeeded'"
    with (
        redis_server(tmp_path / "redis", persistent=True) as server,
        workers(tmp_path / "machines", server.url, db, ["w1", "w2"], "--concurrency", "2"),
    ):
        proc = batch(tmp_path, "slow.workflow.yml", "--inputs", "rows.jsonl", "--queue",
                     server.url, "--db", db)  # fmt: skip
        try:
            wait_for(lambda: query(db, done) >= [(10,)])
            server.stop()
            time.sleep(OUTAGE)
            assert query(db, done) < [(count,)] and proc.poll() is None, "ended before Redis"
            server.start()  # the same port and folder: the queue as it was
            out, err = proc.communicate(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["outputs"] for r in results] == [{"out": i + 1} for i in range(count)]
    assert query(db, "SELECT status, count(*) FROM executions GROUP BY 1") == [("succeeded", count)]
    # a delivery given back after the outage finds its execution ended: not run again; one
    # whose worker lost it is kept as an interrupted attempt before the one that succeeded
    attempts = query(db, "SELECT e.attempt, a.attempt, a.status FROM execution_attempts a "
                         "JOIN executions e ON e.id = a.execution_id")  # fmt: skip
    assert all(final > earlier and status == "interrupted" for final, earlier, status in attempts)
    nodes = query(db, "SELECT status, count(*) FROM node_executions GROUP BY 1")
    assert nodes == [("succeeded", 2 * count)]
