"""OpenTelemetry export against a real OTLP/HTTP endpoint on 127.0.0.1 that decodes the
protobuf payloads with opentelemetry-proto, span by span."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")
from fakes_net import Recorded, Reply, chat_completion, serve
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from flowrun.cli import main

KEY = "sk-otel-secret-0123456789"
WORKFLOW = """\
version: 1
id: traced
secrets: [LLM_KEY]
stages:
  - id: gather
    nodes:
      - id: fetch
        type: http
        with: {{url: "{url}/doc"}}
      - id: broken
        type: http
        on_failure: continue
        with: {{url: "{url}/missing"}}
  - id: think
    nodes:
      - id: ask
        type: llm
        retry: {{attempts: 2, backoff: 10ms}}
        with:
          provider: openai-compatible
          base_url: {url}/v1
          api_key: ${{{{ secrets.LLM_KEY }}}}
          model: gpt-4o-mini
          prompt: "Summarise ${{{{ nodes.fetch.output.body }}}}"
"""


class Collector:
    """An OTLP/HTTP trace receiver: POST /v1/traces, protobuf bodies, decoded."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.raw: list[bytes] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                assert self.path == "/v1/traces"
                assert self.headers.get("Content-Type") == "application/x-protobuf"
                message = ExportTraceServiceRequest()
                message.ParseFromString(body)
                collector.raw.append(body)
                collector.requests.append(message)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def spans(self) -> list[Span]:
        return [
            span
            for request in self.requests
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]


@pytest.fixture
def collector() -> Iterator[Collector]:
    found = Collector()
    found.thread.start()
    yield found
    found.httpd.shutdown()
    found.httpd.server_close()


def attributes(span: Span) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in span.attributes:
        value = item.value
        found[item.key] = getattr(value, value.WhichOneof("value"))
    return found


def provider(calls: list[str]) -> Any:
    def respond(req: Recorded) -> Reply:
        calls.append(req.path)
        if req.path == "/doc":
            return Reply(200, {"text": "Flowrun runs workflows."})
        if req.path == "/missing":
            return Reply(404, "no such page")
        if calls.count("/v1/chat/completions") == 1:
            return Reply(500, {"error": {"message": "overloaded"}})
        return Reply(200, chat_completion("A summary.", "gpt-4o-mini"))

    return respond


def test_an_execution_is_one_trace_of_stage_and_node_spans(
    tmp_path: Path,
    collector: Collector,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.setenv("LLM_KEY", KEY)
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / ".git").mkdir()
    path = tmp_path / "traced.workflow.yml"
    calls: list[str] = []
    with serve(provider(calls)) as srv:
        path.write_text(WORKFLOW.format(url=srv.url))
        code = main(["run", str(path), "--json", "--python", sys.executable])
    out, err = capsys.readouterr()
    tree = json.loads(out)
    assert code == 1, err  # `broken` failed (the run goes on, and fails)
    spans = {span.name: span for span in collector.spans()}
    assert set(spans) == {
        "flowrun.execution traced", "flowrun.stage gather", "flowrun.stage think",
        "flowrun.node fetch", "flowrun.node broken", "chat gpt-4o-mini",
    }  # fmt: skip
    root = spans["flowrun.execution traced"]
    trace_id = root.trace_id.hex()
    assert all(span.trace_id == root.trace_id for span in spans.values())
    assert tree["traceId"] == trace_id  # stored with the execution, in the tree
    assert root.parent_span_id == b""
    assert spans["flowrun.stage gather"].parent_span_id == root.span_id
    assert spans["flowrun.node fetch"].parent_span_id == spans["flowrun.stage gather"].span_id
    ask = spans["chat gpt-4o-mini"]
    assert ask.parent_span_id == spans["flowrun.stage think"].span_id
    assert ask.kind == Span.SPAN_KIND_CLIENT
    assert {k: v for k, v in attributes(ask).items() if k.startswith("gen_ai.")} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai-compatible",
        "gen_ai.provider.name": "openai-compatible",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 21,
        "gen_ai.usage.output_tokens": 9,
    }
    [retry] = ask.events
    assert retry.name == "retry" and attributes(retry)["flowrun.attempt"] == 1
    assert "500" in attributes(retry)["error.message"]
    assert ask.status.code == Status.STATUS_CODE_OK
    broken = spans["flowrun.node broken"]
    assert broken.status.code == Status.STATUS_CODE_ERROR and "404" in broken.status.message
    assert attributes(broken)["http.response.status_code"] == 404
    assert root.status.code == Status.STATUS_CODE_ERROR
    assert attributes(root)["flowrun.execution.status"] == "failed"
    assert attributes(root)["flowrun.llm_calls"] == 1
    assert ask.start_time_unix_nano < ask.end_time_unix_nano <= root.end_time_unix_nano
    assert all(KEY.encode() not in raw for raw in collector.raw)  # secrets never leave
    db = str(tmp_path / ".flowrun" / "history.sqlite3")
    assert main(["show", tree["id"], "--db", db]) == 0
    assert f"trace {trace_id}" in capsys.readouterr().out


def test_without_an_endpoint_nothing_is_exported(
    tmp_path: Path, collector: Collector, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    path = tmp_path / "plain.workflow.yml"
    path.write_text("version: 1\nnodes:\n  - id: a\n    type: transform\n    with: {value: 1}\n")
    assert main(["run", str(path), "--json", "--python", sys.executable]) == 0
    assert json.loads(capsys.readouterr().out)["traceId"] is None
    assert collector.requests == []
