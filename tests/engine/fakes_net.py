"""Real local counterparts for the network node types: an HTTP server on 127.0.0.1 that
records every request, realistic provider responses and error bodies, and fake agent CLIs.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # bytes, str, or anything JSON (sent as application/json)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    repeated: list[tuple[str, str]] = field(default_factory=list)  # headers sent more than once


Responder = Callable[[Recorded], Reply]


class FakeServer:
    """A threading HTTP server on 127.0.0.1:<free port>; `responder` decides each reply."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[Recorded] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler_for(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urllib.parse.urlsplit(self.path)
            recorded = Recorded(
                method=self.command,
                path=parts.path,
                query=urllib.parse.parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            server.requests.append(recorded)
            reply = server.responder(recorded)
            if reply.delay:
                time.sleep(reply.delay)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(reply)  # the client may have given up (timeouts)

        def _send(self, reply: Reply) -> None:
            headers = dict(reply.headers)
            body = reply.body
            if not isinstance(body, bytes | str):
                body = json.dumps(body)
                headers.setdefault("Content-Type", "application/json")
            data = body.encode() if isinstance(body, str) else body
            self.send_response(reply.status)
            for name, value in [*headers.items(), *reply.repeated]:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


@contextmanager
def serve(responder: Responder | Reply) -> Iterator[FakeServer]:
    fixed = responder
    with FakeServer(fixed if callable(fixed) else (lambda _req: fixed)) as server:
        yield server


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connecting is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- provider responses, in each provider's real shape ---------------------------------------


def llm_output(content: str, model: str, tokens: tuple[int, int]) -> dict[str, Any]:
    """What the `llm` node returns for a fake's answer that used (input, output) tokens."""
    used = {"input_tokens": tokens[0], "output_tokens": tokens[1], "total_tokens": sum(tokens)}
    return {"content": content, "model": model, "usage": used, "finish_reason": "stop"}


def chat_completion(content: str, model: str = "llama-3.1-8b-instant") -> dict[str, Any]:
    return {
        "id": "chatcmpl-9a1b2c",
        "object": "chat.completion",
        "created": 1732570000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30},
        "system_fingerprint": "fp_abc",
    }


def anthropic_message(text: str, model: str = "claude-3-5-haiku-20241022") -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 6},
    }


OPENAI_401 = {
    "error": {
        "message": "Incorrect API key provided: sk-wrong. You can find your API key at"
        " https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
GROQ_429 = {
    "error": {
        "message": "Rate limit reached for model `llama-3.1-8b-instant` in organization"
        " `org_01` on tokens per minute (TPM): Limit 6000, Used 5990, Requested 120."
        " Please try again in 1.1s.",
        "type": "tokens",
        "code": "rate_limit_exceeded",
    }
}
OPENAI_500 = {
    "error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}
OLLAMA_404 = {
    "error": {
        "message": 'model "llama3" not found, try pulling it first',
        "type": "api_error",
        "param": None,
        "code": None,
    }
}
ANTHROPIC_401 = {
    "type": "error",
    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
}
ANTHROPIC_429 = {
    "type": "error",
    "error": {
        "type": "rate_limit_error",
        "message": "Number of request tokens has exceeded your per-minute rate limit",
    },
}
ANTHROPIC_500 = {
    "type": "error",
    "error": {"type": "api_error", "message": "Internal server error"},
}


# --- fake agent CLIs -----------------------------------------------------------------------------

AGENT_SCRIPT = """\
import json, os, sys
args = sys.argv[1:]
print(json.dumps({"argv0": os.path.basename(sys.argv[0]), "args": args, "cwd": os.getcwd(),
                  "secret": os.environ.get("FAKE_SECRET")}))
print("working on it", file=sys.stderr)
code = int(os.environ.get("FAKE_AGENT_EXIT", "0"))
if code:
    print("agent failed: quota exceeded", file=sys.stderr)
sys.exit(code)
"""


def write_cli(folder: Path, name: str, body: str = AGENT_SCRIPT) -> Path:
    """An executable Python script `folder/name` run by the test's interpreter."""
    path = folder / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def env_with_path(folder: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


# --- usage in each provider's own fields (recorded response shapes) ----------------------------


def ollama_chat(content: str, model: str = "llama3.2") -> dict[str, Any]:
    """Ollama's own `/api/chat` answer (not the `/v1` chat-completions one)."""
    return {
        "model": model,
        "created_at": "2024-11-26T10:15:03.214Z",
        "message": {"role": "assistant", "content": content},
        "done_reason": "stop",
        "done": True,
        "total_duration": 4883583458,
        "load_duration": 1334875,
        "prompt_eval_count": 26,
        "prompt_eval_duration": 342546000,
        "eval_count": 282,
        "eval_duration": 4535599000,
    }


def anthropic_cached_message(text: str) -> dict[str, Any]:
    """A Messages answer that used prompt caching: cache tokens are input tokens too."""
    body = anthropic_message(text, model="claude-sonnet-4-20250514")
    body["usage"] = {
        "input_tokens": 10,
        "cache_creation_input_tokens": 1000,
        "cache_read_input_tokens": 2000,
        "output_tokens": 50,
        "service_tier": "standard",
    }
    return body


CLAUDE_CODE_RESULT = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "duration_ms": 4207,
    "duration_api_ms": 5613,
    "num_turns": 2,
    "result": "Done: the README now has a usage section.",
    "session_id": "9c1b7d3e-2f4a-4d6b-8e0f-1a2b3c4d5e6f",
    "total_cost_usd": 0.0421,
    "usage": {
        "input_tokens": 8,
        "cache_creation_input_tokens": 4210,
        "cache_read_input_tokens": 13021,
        "output_tokens": 312,
        "server_tool_use": {"web_search_requests": 0},
        "service_tier": "standard",
    },
    "modelUsage": {"claude-sonnet-4-20250514": {"inputTokens": 8, "outputTokens": 312}},
}

CODEX_JSONL = "\n".join(
    json.dumps(event)
    for event in (
        {"type": "thread.started", "thread_id": "0199a213-81c0-7800-8aa1-bbab2a035a53"},
        {"type": "turn.started"},
        {"type": "item.completed", "item": {"id": "item_0", "type": "agent_message", "text": "ok"}},
        {
            "type": "turn.completed",
            "usage": {"input_tokens": 24763, "cached_input_tokens": 24448, "output_tokens": 122},
        },
    )
)

GEMINI_RESULT = {
    "response": "The capital of France is Paris.",
    "stats": {
        "models": {
            "gemini-2.5-pro": {
                "api": {"totalRequests": 2, "totalErrors": 0, "totalLatencyMs": 5053},
                "tokens": {
                    "prompt": 24939,
                    "candidates": 20,
                    "total": 25113,
                    "cached": 21263,
                    "thoughts": 154,
                    "tool": 0,
                },
            }
        },
        "tools": {"totalCalls": 1},
    },
}
