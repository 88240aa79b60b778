"""Running `flowrun worker` in production: SIGTERM and `--grace`, servers unreachable at start
or going away mid-run, and passwords that never reach a log. Real redis-server and PostgreSQL,
workers as separate processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fleet import LONG_NAP, NAP, batch, end_worker, query, sleepers, start_worker, wait_for
from real_services import Postgres, Redis, free_port, redis_server

pytestmark = pytest.mark.timeout(300)


def worker_run(folder: Path, queue: str, db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowrun", "worker", "--queue", queue, "--db", db],
        cwd=folder, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_postgres_or_redis_down_at_start_is_a_clear_error_and_exit_1(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    pg_down = f"postgresql://w:topsecret@127.0.0.1:{free_port()}/db"
    done = worker_run(tmp_path, redis.url, pg_down)
    assert done.returncode == 1
    assert "Cannot reach the PostgreSQL history postgresql://w:***@" in done.stderr
    assert "topsecret" not in done.stderr + done.stdout
    redis_down = f"redis://:topsecret@127.0.0.1:{free_port()}/0"
    done = worker_run(tmp_path, redis_down, db)
    assert done.returncode == 1
    assert "Cannot reach the queue redis://:***@127.0.0.1:" in done.stderr
    assert "topsecret" not in done.stderr + done.stdout


def test_sigterm_lets_executions_finish_within_the_grace_then_stops_the_rest(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    (tmp_path / "nap.workflow.yml").write_text(NAP)
    (tmp_path / "rows.jsonl").write_text(f'{{"n": 3}}\n{{"n": {LONG_NAP}}}\n{{"n": 0.1}}\n')
    machines = tmp_path / "machines"
    w1 = start_worker(machines, redis.url, db, "w1", "--concurrency", "2", "--grace", "6s")
    w2 = None
    try:
        proc = batch(tmp_path, "nap.workflow.yml", "--inputs", "rows.jsonl", "--queue",
                     redis.url, "--db", db)  # fmt: skip
        running = "SELECT count(*) FROM executions WHERE status = 'running' AND pgid > 0"
        wait_for(lambda: query(db, running) == [(2,)])
        os.kill(w1.pid, signal.SIGTERM)  # the main process, as a service manager does
        assert w1.wait(60) == 0
        assert sleepers() == []  # the long one was stopped, its processes gone
        w2 = start_worker(machines, redis.url, db, "w2")  # the third went back to the queue
        out, err = proc.communicate(timeout=120)
    finally:
        end_worker(w1)
        if w2 is not None:
            end_worker(w2)
    assert proc.returncode == 1, err
    statuses = [json.loads(line)["status"] for line in out.splitlines()]
    assert statuses == ["succeeded", "stopped", "succeeded"]
    workers = query(db, "SELECT worker FROM executions ORDER BY seq")
    assert workers == [("w1@test",), ("w1@test",), ("w2@test",)]


def test_passwords_in_the_urls_never_reach_the_logs(tmp_path: Path, db: str) -> None:
    secret = "s3cr3t-pw"
    pg_with_password = db.replace("flowrun@", f"flowrun:{secret}@")  # trust: not asked
    (tmp_path / "nap.workflow.yml").write_text(NAP)
    (tmp_path / "rows.jsonl").write_text('{"n": 0.1}\n')
    with redis_server(tmp_path / "redis", password=secret) as redis:
        w1 = start_worker(tmp_path / "machines", redis.url, pg_with_password, "w1")
        try:
            done = batch(tmp_path, "nap.workflow.yml", "--inputs", "rows.jsonl", "--queue",
                         redis.url, "--db", pg_with_password)  # fmt: skip
            out, err = done.communicate(timeout=120)
        finally:
            end_worker(w1)
    assert done.returncode == 0, err
    log = (tmp_path / "machines" / "w1" / "worker.log").read_text()
    assert "w1@test ready" in log  # the log is the worker's
    assert secret not in log + out + err


def test_postgres_away_mid_run_costs_a_pause_not_the_execution(
    tmp_path: Path, redis: Redis, db: str, postgres: Postgres
) -> None:
    (tmp_path / "nap.workflow.yml").write_text(NAP)
    (tmp_path / "rows.jsonl").write_text('{"n": 2}\n{"n": 2}\n{"n": 2}\n')
    w1 = start_worker(tmp_path / "machines", redis.url, db, "w1")
    try:
        proc = batch(tmp_path, "nap.workflow.yml", "--inputs", "rows.jsonl", "--queue",
                     redis.url, "--db", db)  # fmt: skip
        wait_for(lambda: query(db, "SELECT count(*) FROM executions WHERE pgid > 0") == [(1,)])
        postgres.stop()  # the first ends, the second arrives, while the history is away
        try:
            time.sleep(5)
        finally:
            postgres.start()
        out, err = proc.communicate(timeout=180)
    finally:
        end_worker(w1)
    assert proc.returncode == 0, err
    assert [json.loads(line)["status"] for line in out.splitlines()] == ["succeeded"] * 3
    log = (tmp_path / "machines" / "w1" / "worker.log").read_text()
    assert "error connecting in 'flowrun-history'" in log  # the worker met the outage


def test_an_execution_longer_than_the_visibility_timeout_runs_once(
    tmp_path: Path, redis: Redis, db: str
) -> None:
    (tmp_path / "nap.workflow.yml").write_text(NAP)
    (tmp_path / "rows.jsonl").write_text('{"n": 12}\n')
    machines = tmp_path / "machines"
    ws = [start_worker(machines, redis.url, db, name, visibility="3") for name in ("w1", "w2")]
    try:
        proc = batch(tmp_path, "nap.workflow.yml", "--inputs", "rows.jsonl", "--queue",
                     redis.url, "--db", db)  # fmt: skip
        _out, err = proc.communicate(timeout=120)
    finally:
        for worker in ws:
            end_worker(worker)
    assert proc.returncode == 0, err
    assert query(db, "SELECT status, attempt FROM executions") == [("succeeded", 1)]
    assert query(db, "SELECT count(*) FROM execution_attempts") == [(0,)]  # never redelivered
    logs = "".join((machines / name / "worker.log").read_text() for name in ("w1", "w2"))
    assert logs.count("Task flowrun.execute[") == 2  # received once, succeeded once
