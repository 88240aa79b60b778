"""Requests to a real `flowrun serve`: every answer path, recorded in mode `production`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from served import Served, write

ECHO = """\
version: 1
trigger: {type: http, method: POST, path: "/echo/{id}"}
nodes:
  - id: echo
    type: transform
    with:
      value:
        method: ${{ trigger.method }}
        path: ${{ trigger.path }}
        id: ${{ trigger.params.id }}
        agent: ${{ trigger.headers['x-agent'] }}
        query: ${{ trigger.query }}
        body: ${{ trigger.body }}
        mode: ${{ env.MODE }}
  - id: mode
    type: shell
    with: {run: 'printf %s "$FLOWRUN_EXECUTION_MODE"'}
outputs:
  echo: ${{ nodes.echo.output }}
  mode: ${{ nodes.mode.output.stdout }}
"""

RESPONSE = """\
version: 1
inputs:
  qty: {type: number, default: 1}
trigger:
  type: http
  method: PUT
  path: /orders
  response:
    status: 201
    headers: {X-Total: "${{ nodes.total.output }}"}
    body: {total: "${{ nodes.total.output }}", who: "${{ trigger.query.who }}"}
nodes:
  - id: total
    type: transform
    with: {value: "${{ inputs.qty * 2 }}"}
"""

FAILS = """\
version: 1
secrets: [API_TOKEN]
trigger: {type: http, method: POST, path: /fails}
nodes:
  - id: boom
    type: python
    with:
      code: |
        import os
        def main():
            raise ValueError("bad row in /srv/data/input.csv with " + os.environ["API_TOKEN"])
"""

SLOW = """\
version: 1
trigger: {type: http, method: POST, path: /slow, timeout: 1s}
nodes:
  - id: nap
    type: shell
    with: {run: sleep 30}
"""

LATER = """\
version: 1
trigger: {type: http, method: POST, path: /later, respond: accepted}
nodes:
  - id: nap
    type: shell
    with: {run: "sleep 0.3; printf done"}
outputs:
  said: ${{ nodes.nap.output.stdout }}
"""

PINNED = """\
version: 1
trigger: {type: http, method: GET, path: /pinned}
nodes:
  - id: real
    type: shell
    with: {run: printf real}
    pin: {stdout: pinned}
outputs:
  value: ${{ nodes.real.output.stdout }}
"""

RUN = (sys.executable, "-m", "flowrun", "run")
HISTORY = (sys.executable, "-m", "flowrun", "history", "--json")
TOKEN = "tok-Zq81-never-shown"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("served")
    for name, text in [
        ("echo", ECHO),
        ("response", RESPONSE),
        ("fails", FAILS),
        ("slow", SLOW),
        ("later", LATER),
        ("pinned", PINNED),
    ]:
        write(folder, f"{name}.workflow.yml", text)
    server = Served(folder, "--warm", "2", env={"API_TOKEN": TOKEN, "MODE": "x"}).start()
    yield server
    server.stop()


def test_a_request_becomes_the_trigger_of_a_production_execution(served: Served) -> None:
    with served.client() as client:
        answer = client.post(
            "/echo/42?color=red&size=9",
            json={"a": [1, 2]},
            headers={"X-Agent": "tester"},
        )
        text = client.post("/echo/7", content=b"plain words", headers={"content-type": "text/x"})
    assert answer.status_code == 200, answer.text
    echo = answer.json()["echo"]
    assert echo["method"] == "POST" and echo["path"] == "/echo/42" and echo["id"] == "42"
    assert echo["agent"] == "tester"
    assert echo["query"] == {"color": "red", "size": "9"}
    assert echo["body"] == {"a": [1, 2]}
    assert answer.json()["mode"] == "production"
    assert text.json()["echo"]["body"] == "plain words"
    execution_id = answer.headers["x-flowrun-execution-id"]
    mode, status = served.rows("SELECT mode, status FROM executions WHERE id = ?", execution_id)[0]
    assert (mode, status) == ("production", "succeeded")


def test_trigger_response_sets_status_headers_and_body(served: Served) -> None:
    with served.client() as client:
        answer = client.put("/orders?who=ada", json={"qty": 4})
    assert answer.status_code == 201, answer.text
    assert answer.headers["x-total"] == "8"
    assert answer.json() == {"total": 8, "who": "ada"}


def test_a_failed_execution_is_a_500_without_traceback_paths_or_secrets(served: Served) -> None:
    with served.client() as client:
        answer = client.post("/fails")
    assert answer.status_code == 500
    body = answer.json()
    assert set(body) == {"executionId", "error"}
    assert answer.headers["x-flowrun-execution-id"] == body["executionId"]
    assert set(body["error"]) == {"type", "message"}
    assert "bad row" in body["error"]["message"]
    for leak in (TOKEN, "Traceback", "/srv/data", str(served.folder)):
        assert leak not in answer.text
    status = served.rows("SELECT status FROM executions WHERE id = ?", body["executionId"])
    assert status == [("failed",)]


def test_over_the_timeout_is_a_504_and_the_execution_is_recorded_timed_out(
    served: Served,
) -> None:
    started = time.monotonic()
    with served.client() as client:
        answer = client.post("/slow")
    assert answer.status_code == 504
    assert time.monotonic() - started < 20  # stopped, not left to sleep 30 s
    execution_id = answer.json()["executionId"]
    assert answer.headers["x-flowrun-execution-id"] == execution_id
    served.wait_for(
        "timed_out",
        lambda: (
            served.rows("SELECT status FROM executions WHERE id = ?", execution_id)
            == [("timed_out",)]
        ),
    )


def test_accepted_answers_202_with_location_and_the_tree_is_readable(served: Served) -> None:
    with served.client() as client:
        answer = client.post("/later")
        assert answer.status_code == 202
        execution_id = answer.json()["executionId"]
        assert answer.headers["location"] == f"/executions/{execution_id}"
        deadline = time.monotonic() + 30
        tree: dict[str, Any] = {}
        while time.monotonic() < deadline:
            tree = client.get(answer.headers["location"]).json()
            if tree["status"] == "succeeded":
                break
            time.sleep(0.1)
        missing = client.get("/executions/ffffffffffffffff")
    assert tree["status"] == "succeeded" and tree["outputs"] == {"said": "done"}
    assert tree["mode"] == "production"
    assert [child["id"] for child in tree["children"]] == ["nap"]
    assert missing.status_code == 404


def test_pinned_nodes_run_for_real_and_the_start_log_lists_them(served: Served) -> None:
    with served.client() as client:
        answer = client.get("/pinned")
    assert answer.json() == {"value": "real"}
    assert "pins ignored in production: real" in served.output()


def test_unknown_routes_and_methods_are_404_and_405(served: Served) -> None:
    with served.client() as client:
        assert client.get("/nowhere").status_code == 404
        assert client.get("/echo/1").status_code == 405
        assert client.get("/healthz").json()["status"] == "ok"


def test_one_access_log_line_per_request(served: Served) -> None:
    with served.client() as client:
        execution_id = client.put("/orders").headers["x-flowrun-execution-id"]
    line = next(line for line in served.output().splitlines() if execution_id in line)
    assert line.startswith("PUT /orders 201 ")


def test_history_lists_production_executions(served: Served) -> None:
    with served.client() as client:
        client.put("/orders")
    listed = subprocess.run(
        [*HISTORY, "--mode", "production", "--db", str(served.db), "--limit", "100"],
        capture_output=True,
        text=True,
        check=True,
    )
    executions = json.loads(listed.stdout)["executions"]
    assert executions and {e["mode"] for e in executions} == {"production"}
    tested = subprocess.run(
        [*HISTORY, "--mode", "test", "--db", str(served.db)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(tested.stdout)["executions"] == []


def test_body_limit_and_full_queue(tmp_path: Path, serve_factory: Any) -> None:
    write(tmp_path, "later.workflow.yml", LATER.replace("sleep 0.3", "sleep 3"))
    server = serve_factory(
        "--max-body", "100", "--max-concurrent", "1", "--queue-size", "1", "--warm", "0"
    ).start()
    with server.client() as client:
        too_big = client.post("/later", content=b"x" * 1000)
        assert too_big.status_code == 413
        first = client.post("/later")
        second = client.post("/later")  # waits in the queue
        third = client.post("/later")
    assert (first.status_code, second.status_code) == (202, 202)
    assert third.status_code == 503 and third.headers["retry-after"]
    accepted = {first.json()["executionId"], second.json()["executionId"]}
    recorded = {row[0] for row in server.rows("SELECT id FROM executions")}
    assert recorded == accepted


def test_the_server_answers_while_busy(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as client:
        assert client.get("/metrics").status_code == 200


def test_a_production_execution_re_runs_in_test_mode_with_its_request(served: Served) -> None:
    with served.client() as client:
        answer = client.post("/echo/99?color=blue", json={"a": 1}, headers={"X-Agent": "prod"})
    assert answer.status_code == 200, (answer.status_code, answer.text)
    execution_id = answer.headers["x-flowrun-execution-id"]
    file = str(served.folder / "echo.workflow.yml")
    rerun = subprocess.run(
        [*RUN, file, "--from-execution", execution_id[:10], "--json", "--db", str(served.db)],
        capture_output=True,
        text=True,
        env={**os.environ, "MODE": "x"},
    )
    assert rerun.returncode == 0, rerun.stderr
    tree = json.loads(rerun.stdout)
    assert tree["mode"] == "test" and tree["id"] != execution_id
    assert tree["outputs"]["echo"] == answer.json()["echo"]
    assert tree["outputs"]["mode"] == "test"


def test_a_burst_of_concurrent_requests_all_succeed(served: Served) -> None:
    """Under uvloop, the pipe of an ended engine was closed twice while the pool forked the
    next child in another thread: a child lost its stdin, or the fork server was replaced
    and its running children with it (a few 500s in every few hundred requests)."""

    async def burst() -> list[tuple[int, Any]]:
        limits = httpx.Limits(max_connections=40)
        async with httpx.AsyncClient(base_url=served.url, timeout=120, limits=limits) as client:
            answers = await asyncio.gather(
                *(client.put(f"/orders?who=n{n}", json={"qty": n}) for n in range(200))
            )
        return [(answer.status_code, answer.json()) for answer in answers]

    answers = asyncio.run(burst())
    assert answers == [(201, {"total": 2 * n, "who": f"n{n}"}) for n in range(200)]
    assert "fork server failed" not in served.output()
