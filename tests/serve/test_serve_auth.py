"""`trigger.auth` against a real server; secrets never in answers, logs, metrics or history."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from typing import Any

import pytest
from served import Served, write

BEARER = """\
version: 1
secrets: [HOOK_TOKEN]
trigger:
  type: http
  method: POST
  path: /bearer
  auth: {bearer: "${{ secrets.HOOK_TOKEN }}"}
nodes:
  - id: seen
    type: transform
    with: {value: "${{ trigger.headers.authorization }}"}
outputs:
  seen: ${{ nodes.seen.output }}
"""

SIGNED = """\
version: 1
secrets: [HOOK_SECRET]
trigger:
  type: http
  method: POST
  path: /signed
  auth:
    hmac:
      header: X-Hub-Signature-256
      secret: ${{ secrets.HOOK_SECRET }}
      algorithm: sha256
      prefix: "sha256="
nodes:
  - id: seen
    type: transform
    with: {value: "${{ trigger.body.action }}"}
outputs:
  action: ${{ nodes.seen.output }}
"""

TOKEN = "bearer-K7f2-do-not-leak"
SECRET = "hmac-P9q4-do-not-leak"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("auth")
    write(folder, "bearer.workflow.yml", BEARER)
    write(folder, "signed.workflow.yml", SIGNED)
    env = {"HOOK_TOKEN": TOKEN, "HOOK_SECRET": SECRET}
    server = Served(folder, "--log-format", "json", env=env).start()
    yield server
    server.stop()


def test_bearer_valid_wrong_and_missing(served: Served) -> None:
    with served.client() as client:
        ok = client.post("/bearer", headers={"Authorization": f"Bearer {TOKEN}"})
        wrong = client.post("/bearer", headers={"Authorization": "Bearer nope"})
        scheme = client.post("/bearer", headers={"Authorization": f"Basic {TOKEN}"})
        missing = client.post("/bearer")
    assert ok.status_code == 200
    assert ok.json() == {"seen": "Bearer ***"}  # the workflow never sees the token
    for refused in (wrong, scheme, missing):
        assert refused.status_code == 401
        assert refused.json() == {"error": {"type": "Unauthorized"}}


def test_hmac_valid_wrong_missing_and_replayed(served: Served) -> None:
    body = b'{"action": "opened"}'
    other = b'{"action": "closed"}'
    json_type = {"content-type": "application/json"}
    with served.client() as client:
        ok = client.post(
            "/signed", content=body, headers={**json_type, "X-Hub-Signature-256": sign(body)}
        )
        wrong_key = client.post(
            "/signed",
            content=body,
            headers={**json_type, "X-Hub-Signature-256": sign(body, "other")},
        )
        missing = client.post("/signed", content=body, headers=json_type)
        replayed = client.post(  # a valid signature, of another body
            "/signed", content=other, headers={**json_type, "X-Hub-Signature-256": sign(body)}
        )
    assert ok.status_code == 200 and ok.json() == {"action": "opened"}
    for refused in (wrong_key, missing, replayed):
        assert refused.status_code == 401
        assert refused.json() == {"error": {"type": "Unauthorized"}}


def test_refused_requests_start_no_execution(served: Served) -> None:
    before = served.rows("SELECT count(*) FROM executions")[0][0]
    with served.client() as client:
        assert client.post("/bearer", headers={"Authorization": "Bearer x"}).status_code == 401
    assert served.rows("SELECT count(*) FROM executions")[0][0] == before


def test_secrets_are_never_in_answers_logs_metrics_or_history(served: Served) -> None:
    body = b'{"action": "opened"}'
    with served.client() as client:
        answers = [
            client.post("/bearer", headers={"Authorization": f"Bearer {TOKEN}"}),
            client.post("/bearer", headers={"Authorization": f"Bearer {TOKEN}x"}),
            client.post("/signed", content=body, headers={"X-Hub-Signature-256": sign(body)}),
            client.post(f"/bearer?token={TOKEN}"),
        ]
        metrics = client.get("/metrics").text
        trees = [
            client.get(f"/executions/{row[0]}").text
            for row in served.rows("SELECT id FROM executions")
        ]
    dump = "\n".join(sqlite3.connect(served.db).iterdump())
    texts = [a.text + str(a.headers) for a in answers] + [metrics, served.output(), dump, *trees]
    for text in texts:
        assert TOKEN not in text and SECRET not in text
    assert "flowrun_http_requests_total" in metrics


def test_the_access_log_is_one_json_object_per_request(served: Served) -> None:
    with served.client() as client:
        answer = client.post("/bearer", headers={"Authorization": f"Bearer {TOKEN}"})
    execution_id = answer.headers["x-flowrun-execution-id"]
    # the line is written once the answer is sent: it may follow the answer by a moment
    served.wait_for("the access-log line", lambda: execution_id in served.output())
    line = next(line for line in served.output().splitlines() if execution_id in line)
    record = json.loads(line)
    assert {k: record[k] for k in ("method", "route", "status", "executionId")} == {
        "method": "POST",
        "route": "/bearer",
        "status": 200,
        "executionId": execution_id,
    }
    assert record["durationMs"] >= 0
