"""Drain on SIGTERM, and nothing accepted lost across a SIGKILL and a restart."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from served import write

NAP = """\
version: 1
trigger: {{type: http, method: POST, path: /nap, respond: {respond}}}
nodes:
  - id: nap
    type: shell
    with: {{run: "sleep {seconds}; printf woke"}}
outputs:
  said: ${{{{ nodes.nap.output.stdout }}}}
"""


def nap(seconds: float, respond: str = "wait") -> str:
    return NAP.format(seconds=seconds, respond=respond)


def test_sigterm_drains_running_executions_then_exits_0(tmp_path: Path, serve_factory: Any) -> None:
    write(tmp_path, "nap.workflow.yml", nap(2))
    server = serve_factory("--grace", "20s").start()
    answers: list[httpx.Response] = []
    waiting = threading.Thread(
        target=lambda: answers.append(httpx.post(f"{server.url}/nap", timeout=60))
    )
    with server.client() as client:  # a kept-alive connection sees the drain
        client.get("/healthz")
        waiting.start()
        server.wait_for(
            "running", lambda: server.rows("SELECT status FROM executions") == [("running",)]
        )
        server.signal(signal.SIGTERM)
        server.wait_for("draining", lambda: client.get("/healthz").status_code == 503)
        refused = client.post("/nap")
    assert refused.status_code == 503
    waiting.join(60)
    assert server.wait_exit() == 0
    assert answers[0].status_code == 200 and answers[0].json() == {"said": "woke"}
    assert server.rows("SELECT status FROM executions") == [("succeeded",)]


def test_sigterm_stops_what_outlives_the_grace(tmp_path: Path, serve_factory: Any) -> None:
    write(tmp_path, "nap.workflow.yml", nap(60, "accepted"))
    server = serve_factory("--grace", "1s").start()
    with server.client() as client:
        execution_id = client.post("/nap").json()["executionId"]
    server.wait_for(
        "running", lambda: server.rows("SELECT status FROM executions") == [("running",)]
    )
    pgid = server.rows("SELECT pgid FROM executions")[0][0]
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert time.monotonic() - started < 30
    rows = server.rows("SELECT id, status FROM executions")
    assert rows == [(execution_id, "stopped")]
    server.wait_for("the process group to end", lambda: not _group_alive(pgid), timeout=10)


def test_sigkill_under_load_then_restart_loses_nothing(tmp_path: Path, serve_factory: Any) -> None:
    write(tmp_path, "nap.workflow.yml", nap(0.5, "accepted"))
    server = serve_factory("--max-concurrent", "2", "--queue-size", "500").start()
    accepted: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            while not stop.is_set():
                try:
                    answer = client.post("/nap")
                except httpx.TransportError:
                    return
                if answer.status_code == 202:
                    accepted.append(answer.json()["executionId"])

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    server.wait_for("load", lambda: len(accepted) >= 20)
    # Kill while some run and others wait: on a loaded machine the first children may not
    # have started yet when the twentieth request is accepted.
    server.wait_for(
        "a running execution",
        lambda: "running" in {s for _, s in server.rows("SELECT id, status FROM executions")},
    )
    server.process.kill()  # SIGKILL: no chance to clean up
    server.wait_exit()
    stop.set()
    for thread in threads:
        thread.join(30)
    before = dict(server.rows("SELECT id, status FROM executions"))
    assert set(accepted) <= set(before)  # recorded before the 202 was sent
    assert "queued" in before.values() and "running" in before.values()
    queued = {i for i, s in before.items() if s == "queued"}
    running = {i for i, s in before.items() if s == "running"}

    restarted = serve_factory("--max-concurrent", "2").start()
    restarted.wait_for(
        "the queue to run",
        lambda: (
            not {s for (s,) in restarted.rows("SELECT status FROM executions")}
            & {"queued", "running"}
        ),
        timeout=120,
    )
    after = dict(restarted.rows("SELECT id, status FROM executions"))
    assert set(after) == set(before)
    assert {after[i] for i in queued} == {"succeeded"}
    assert {after[i] for i in running} == {"interrupted"}
    assert all(after[i] in ("succeeded", "interrupted") for i in accepted)
    assert "recovered:" in restarted.output()


def _group_alive(pgid: int) -> bool:
    import os

    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
