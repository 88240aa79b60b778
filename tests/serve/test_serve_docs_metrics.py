"""`/metrics`, `/openapi.json` and `/docs` of a real server; the start-up warnings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from served import write

from flowrun.serve.routes import load_table
from flowrun.serve.server import startup_report
from flowrun.serve.state import ServeOptions

ORDERS = """\
version: 1
name: Price an order
description: Prices an order.
inputs:
  qty: {type: number, default: 1, description: how many}
  sku: {type: string}
trigger:
  type: http
  method: POST
  path: "/orders/{id}"
  sample:
    query: {currency: EUR}
    body: {sku: kb-1, qty: 2}
nodes:
  - id: total
    type: transform
    with: {value: "${{ inputs.qty * 10 }}"}
outputs:
  total: ${{ nodes.total.output }}
"""

SECURED = """\
version: 1
secrets: [TOKEN]
trigger:
  type: http
  method: GET
  path: /secured
  auth: {bearer: "${{ secrets.TOKEN }}"}
nodes:
  - id: one
    type: transform
    with: {value: 1}
"""


def test_metrics_count_requests_executions_and_show_the_queue(
    tmp_path: Path, serve_factory: Any
) -> None:
    write(tmp_path, "orders.workflow.yml", ORDERS)
    server = serve_factory().start()
    with server.client() as client:
        assert client.post("/orders/7", json={"sku": "a", "qty": 3}).json() == {"total": 30}
        assert client.post("/orders/8", json={"qty": 3}).status_code == 400  # sku missing
        client.get("/nowhere")
        text = client.get("/metrics").text
    assert (
        'flowrun_http_requests_total{method="POST",route="/orders/{id}",status="200"} 1.0' in text
    )
    assert 'route="<unmatched>",status="404"' in text
    assert 'flowrun_executions_total{status="succeeded",workflow="orders"} 1.0' in text
    assert "flowrun_queue_depth 0.0" in text
    assert "flowrun_running_children 0.0" in text
    assert "flowrun_execution_duration_seconds_bucket" in text
    assert "/orders/7" not in text  # routes are templates: bounded labels


def test_openapi_describes_the_served_workflows(tmp_path: Path, serve_factory: Any) -> None:
    write(tmp_path, "orders.workflow.yml", ORDERS)
    write(tmp_path, "secured.workflow.yml", SECURED)
    server = serve_factory(env={"TOKEN": "t0k3n-value"}).start()
    with server.client() as client:
        document = client.get("/openapi.json").json()
        docs = client.get("/docs")
    assert set(document["paths"]) == {"/orders/{id}", "/secured"}
    post = document["paths"]["/orders/{id}"]["post"]
    assert post["summary"] == "Price an order"
    assert {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}} in post[
        "parameters"
    ]
    body = post["requestBody"]["content"]["application/json"]
    assert body["example"] == {"sku": "kb-1", "qty": 2}
    assert body["schema"]["required"] == ["sku"]
    assert body["schema"]["properties"]["qty"] == {
        "type": "number",
        "description": "how many",
        "default": 1,
    }
    assert document["paths"]["/secured"]["get"]["security"] == [{"bearer": []}]
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_start_report_lists_routes_and_warns_for_open_routes_off_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "orders.workflow.yml", ORDERS)
    write(tmp_path, "secured.workflow.yml", SECURED)
    monkeypatch.setenv("TOKEN", "x")
    table, problems = load_table([tmp_path])
    assert problems == []
    public = startup_report(ServeOptions([tmp_path], host="0.0.0.0"), table)
    local = startup_report(ServeOptions([tmp_path], host="127.0.0.1"), table)
    warnings = [line for line in public if "warning" in line]
    assert len(warnings) == 1 and "POST /orders/{id} has no trigger.auth" in warnings[0]
    assert not [line for line in local if "warning" in line]


ASK = """\
version: 1
id: ask
trigger: {{type: http, method: POST, path: /ask}}
nodes:
  - id: answer
    type: llm
    cache: {{production: true}}
    with:
      provider: openai-compatible
      base_url: {url}/v1
      model: gpt-4o-mini
      prompt: hi
"""


def test_metrics_count_llm_calls_tokens_cost_and_cache_hits(
    tmp_path: Path, serve_factory: Any
) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
    from fakes_net import Reply, chat_completion, serve

    with serve(Reply(200, chat_completion("hello", "gpt-4o-mini"))) as provider:
        write(tmp_path, "ask.workflow.yml", ASK.format(url=provider.url))
        server = serve_factory().start()
        with server.client() as client:
            assert client.post("/ask").status_code == 200
            assert client.post("/ask").status_code == 200  # from the cache
            text = client.get("/metrics").text
    labels = 'model="gpt-4o-mini",provider="openai-compatible",workflow="ask"'
    assert f"flowrun_llm_calls_total{{{labels}}} 1.0" in text
    assert f"flowrun_llm_input_tokens_total{{{labels}}} 21.0" in text
    assert f"flowrun_llm_output_tokens_total{{{labels}}} 9.0" in text
    cost = (21 * 0.15 + 9 * 0.60) / 1e6
    [line] = [line for line in text.splitlines() if line.startswith("flowrun_cost_usd_total{")]
    assert line.startswith('flowrun_cost_usd_total{workflow="ask"}')
    assert float(line.split()[-1]) == pytest.approx(cost)
    assert 'flowrun_cache_hits_total{workflow="ask"} 1.0' in text
    assert len(provider.requests) == 1
