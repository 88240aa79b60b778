"""The `llm` node type against local fake chat-completions and Messages servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes_net import (
    ANTHROPIC_401,
    ANTHROPIC_429,
    ANTHROPIC_500,
    GROQ_429,
    OLLAMA_404,
    OPENAI_401,
    OPENAI_500,
    Recorded,
    Reply,
    anthropic_message,
    chat_completion,
    closed_port,
    llm_output,
    serve,
)

from conftest import Engine, node, node_context, workflow
from flowrun_engine.context import NodeContext
from flowrun_engine.errors import NodeError
from flowrun_engine.nodes import llm

KEY = "gsk_test_0123456789abcdef"


async def run(params: dict[str, Any], ctx: NodeContext) -> Any:
    return await llm.run(params, ctx)


async def test_groq_chat_completion_exact_request(tmp_path: Path) -> None:
    ctx = node_context(tmp_path)
    with serve(Reply(200, chat_completion("A short summary."))) as srv:
        out = await run(
            {
                "provider": "groq",
                "model": "llama-3.1-8b-instant",
                "system": "Answer in one short sentence.",
                "prompt": "Flowrun runs workflows locally.",
                "temperature": 0.2,
                "max_tokens": 64,
                "api_key": KEY,
                "base_url": f"{srv.url}/openai/v1/",
            },
            ctx,
        )
    req = srv.last
    assert (req.method, req.path) == ("POST", "/openai/v1/chat/completions")
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["content-type"] == "application/json"
    assert req.json() == {
        "model": "llama-3.1-8b-instant",
        "messages": [
            {"role": "system", "content": "Answer in one short sentence."},
            {"role": "user", "content": "Flowrun runs workflows locally."},
        ],
        "temperature": 0.2,
        "max_tokens": 64,
    }
    assert out == llm_output("A short summary.", "llama-3.1-8b-instant", (21, 9))
    [(stream, text)] = ctx.logs
    assert stream == "info"
    assert text.startswith("groq llama-3.1-8b-instant → 200 (") and text.endswith(", 30 tokens)")
    assert KEY not in text


async def test_openai_key_from_env_and_messages(tmp_path: Path) -> None:
    ctx = node_context(tmp_path, {"OPENAI_API_KEY": "sk-env-key"})
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]
    with serve(Reply(200, chat_completion("ok", model="gpt-4o-mini"))) as srv:
        out = await run(
            {
                "provider": "openai",
                "model": "gpt-4o-mini",
                "messages": messages,
                "prompt": {"follow": "up"},
                "base_url": srv.url,
            },
            ctx,
        )
    assert srv.last.path == "/chat/completions"
    assert srv.last.headers["authorization"] == "Bearer sk-env-key"
    assert srv.last.json() == {
        "model": "gpt-4o-mini",
        "messages": [*messages, {"role": "user", "content": '{"follow": "up"}'}],
    }
    assert out["model"] == "gpt-4o-mini"


async def test_ollama_and_compatible_need_no_key(tmp_path: Path) -> None:
    ctx = node_context(tmp_path)
    reply = Reply(200, chat_completion("local", model="llama3.2"))
    with serve(reply) as srv:
        await run(
            {"provider": "ollama", "model": "llama3.2", "prompt": "x", "base_url": srv.url}, ctx
        )
        assert "authorization" not in srv.last.headers
        await run(
            {
                "provider": "openai-compatible",
                "model": "m",
                "prompt": "x",
                "base_url": srv.url + "/v1",
            },
            ctx,
        )
        assert srv.last.path == "/v1/chat/completions"
        assert "authorization" not in srv.last.headers
        await run(
            {
                "provider": "openai-compatible",
                "model": "m",
                "prompt": "x",
                "base_url": srv.url,
                "api_key": "k",
            },
            ctx,
        )
        assert srv.last.headers["authorization"] == "Bearer k"


async def test_chat_response_without_usage_or_content(tmp_path: Path) -> None:
    body = {"model": "m", "choices": [{"message": {"role": "assistant", "content": None}}]}
    with serve(Reply(200, body)) as srv:
        out = await run(
            {"provider": "ollama", "model": "m", "prompt": "x", "base_url": srv.url},
            node_context(tmp_path),
        )
    assert out == {
        "content": "",
        "model": "m",
        "usage": {"input_tokens": None, "output_tokens": None, "total_tokens": None},
        "finish_reason": None,
    }


async def test_anthropic_messages_exact_request(tmp_path: Path) -> None:
    ctx = node_context(tmp_path, {"ANTHROPIC_API_KEY": "sk-ant-test"})
    with serve(Reply(200, anthropic_message("Bonjour."))) as srv:
        out = await run(
            {
                "provider": "anthropic",
                "model": "claude-3-5-haiku-20241022",
                "system": "Translate to French.",
                "messages": [{"role": "system", "content": "Be brief."}],
                "prompt": "Hello.",
                "temperature": 0,
                "base_url": srv.url,
            },
            ctx,
        )
    req = srv.last
    assert req.path == "/v1/messages"
    assert req.headers["x-api-key"] == "sk-ant-test"
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert req.headers["content-type"] == "application/json"
    assert "authorization" not in req.headers
    assert req.json() == {
        "model": "claude-3-5-haiku-20241022",
        "max_tokens": 1024,
        "system": "Translate to French.\n\nBe brief.",
        "messages": [{"role": "user", "content": "Hello."}],
        "temperature": 0,
    }
    assert out == llm_output("Bonjour.", "claude-3-5-haiku-20241022", (12, 6))


async def test_anthropic_base_url_with_v1_and_blocks(tmp_path: Path) -> None:
    body = anthropic_message("")
    body["content"] = [
        {"type": "text", "text": "part one, "},
        {"type": "tool_use", "id": "t", "name": "x", "input": {}},
        {"type": "text", "text": "part two"},
    ]
    body["stop_reason"] = "max_tokens"
    with serve(Reply(200, body)) as srv:
        out = await run(
            {
                "provider": "anthropic",
                "model": "claude",
                "prompt": "x",
                "max_tokens": 10,
                "api_key": "k",
                "base_url": srv.url + "/v1",
            },
            node_context(tmp_path),
        )
    assert srv.last.path == "/v1/messages"
    assert srv.last.json()["max_tokens"] == 10
    assert "system" not in srv.last.json()
    assert out["content"] == "part one, part two"
    assert out["finish_reason"] == "length"


@pytest.mark.parametrize(
    ("provider", "status", "body", "message", "hint"),
    [
        (
            "openai",
            401,
            OPENAI_401,
            "openai returned 401 Unauthorized: Incorrect API key",
            "OPENAI_API_KEY",
        ),
        ("groq", 429, GROQ_429, "groq returned 429 Too Many Requests: Rate limit reached", "retry"),
        (
            "openai",
            500,
            OPENAI_500,
            "openai returned 500 Internal Server Error: The server had",
            "later",
        ),
        (
            "ollama",
            404,
            OLLAMA_404,
            'ollama returned 404 Not Found: model "llama3" not found',
            "model name",
        ),
        (
            "anthropic",
            401,
            ANTHROPIC_401,
            "anthropic returned 401 Unauthorized: invalid x-api-key",
            "ANTHROPIC_API_KEY",
        ),
        (
            "anthropic",
            429,
            ANTHROPIC_429,
            "anthropic returned 429 Too Many Requests: Number of",
            "rate limited",
        ),
        (
            "anthropic",
            500,
            ANTHROPIC_500,
            "anthropic returned 500 Internal Server Error: Internal",
            "overloaded",
        ),
        (
            "ollama",
            400,
            {"error": "invalid options"},
            "ollama returned 400 Bad Request: invalid options",
            "parameters",
        ),
        ("ollama", 400, {"message": "bad"}, "400 Bad Request: bad", "parameters"),
        (
            "ollama",
            502,
            "<html>Bad gateway</html>",
            "502 Bad Gateway: <html>Bad gateway</html>",
            "later",
        ),
        ("ollama", 503, b"", "503 Service Unavailable: (empty body)", "later"),
    ],
)
async def test_provider_errors(
    tmp_path: Path, provider: str, status: int, body: Any, message: str, hint: str
) -> None:
    with serve(Reply(status, body)) as srv, pytest.raises(NodeError) as info:
        await run(
            {
                "provider": provider,
                "model": "m",
                "prompt": "x",
                "api_key": "k",
                "base_url": srv.url,
            },
            node_context(tmp_path),
        )
    assert info.value.type == "ProviderError"
    assert message in info.value.message
    assert hint in (info.value.suggestion or "")


async def test_provider_error_never_echoes_the_key(tmp_path: Path) -> None:
    body = {"error": {"message": f"key {KEY} is revoked"}}
    with serve(Reply(401, body)) as srv, pytest.raises(NodeError) as info:
        await run(
            {"provider": "groq", "model": "m", "prompt": "x", "api_key": KEY, "base_url": srv.url},
            node_context(tmp_path),
        )
    assert KEY not in info.value.message
    assert "key *** is revoked" in info.value.message


async def test_missing_key(tmp_path: Path) -> None:
    with pytest.raises(NodeError) as info:
        await run({"provider": "groq", "model": "m", "prompt": "x"}, node_context(tmp_path))
    assert info.value.type == "ProviderError"
    assert info.value.message == (
        "no API key for groq: set GROQ_API_KEY in the environment or .env, list it under"
        " secrets:, and pass api_key: ${{ secrets.GROQ_API_KEY }}"
    )
    assert "secrets: [GROQ_API_KEY]" in (info.value.suggestion or "")


async def test_not_a_chat_completion(tmp_path: Path) -> None:
    with serve(Reply(200, {"hello": "world"})) as srv, pytest.raises(NodeError) as info:
        await run(
            {"provider": "ollama", "model": "m", "prompt": "x", "base_url": srv.url},
            node_context(tmp_path),
        )
    assert info.value.type == "ProviderError"
    assert "not a chat completion" in info.value.message
    assert "base_url" in (info.value.suggestion or "")


async def test_unreachable_provider(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    for provider, hint in (("ollama", "ollama serve"), ("openai-compatible", "server is running")):
        with pytest.raises(NodeError) as info:
            await run(
                {"provider": provider, "model": "m", "prompt": "x", "base_url": base},
                node_context(tmp_path),
            )
        assert info.value.type == "ProviderError"
        assert info.value.message.startswith(f"could not reach {provider}: POST {base}/chat")
        assert hint in (info.value.suggestion or "")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": "m", "prompt": "x"}, "unknown llm provider null"),
        ({"provider": "mistral", "model": "m", "prompt": "x"}, 'unknown llm provider "mistral"'),
        ({"provider": "ollama", "prompt": "x"}, "has no `model`"),
        ({"provider": "ollama", "model": "m"}, "neither `prompt` nor `messages`"),
        ({"provider": "ollama", "model": "m", "messages": "hi"}, "`messages` must be a list"),
        ({"provider": "ollama", "model": "m", "messages": [{"content": "x"}]}, "`messages` must"),
        ({"provider": "openai-compatible", "model": "m", "prompt": "x"}, "needs `base_url`"),
    ],
)
async def test_bad_parameters(tmp_path: Path, params: dict[str, Any], message: str) -> None:
    with pytest.raises(NodeError, match=message.replace("`", ".")) as info:
        await run(params, node_context(tmp_path))
    assert info.value.type == "ExecutionError"


def test_provider_defaults() -> None:
    assert llm.PROVIDERS["openai"].base_url == "https://api.openai.com/v1"
    assert llm.PROVIDERS["groq"].base_url == "https://api.groq.com/openai/v1"
    assert llm.PROVIDERS["ollama"].base_url == "http://localhost:11434/v1"
    assert llm.PROVIDERS["anthropic"].base_url == "https://api.anthropic.com"
    assert llm.PROVIDERS["openai-compatible"].base_url is None


def test_http_then_llm_in_a_whole_run(engine: Engine) -> None:
    """A workflow run by the engine (in-process and as a child): http → llm with a secret key."""
    key = "gsk_live_abcdefghijklmnop"

    def responder(req: Recorded) -> Reply:
        if req.path == "/doc":
            return Reply(200, {"text": "Flowrun runs workflows locally."})
        assert req.headers["authorization"] == f"Bearer {key}"
        return Reply(200, chat_completion(f"Summary of: {req.json()['messages'][-1]['content']}"))

    with serve(responder) as srv:
        run = engine(
            workflow(
                node("fetch", "http", with_={"url": f"{srv.url}/doc", "query": {"lang": "en"}}),
                node(
                    "summarize",
                    "llm",
                    needs=["fetch"],
                    with_={
                        "provider": "groq",
                        "model": "llama-3.1-8b-instant",
                        "prompt": "${{ nodes.fetch.output.body.text }}",
                        "api_key": "${{ secrets.GROQ_API_KEY }}",
                        "base_url": srv.url,
                    },
                ),
                secrets=["GROQ_API_KEY"],
                outputs={"summary": "${{ nodes.summarize.output.content }}"},
            ),
            {"GROQ_API_KEY": key},
        )
    assert run.status == "succeeded", run.raw
    assert run.finished["outputs"] == {"summary": "Summary of: Flowrun runs workflows locally."}
    assert run.output("fetch")["status"] == 200
    assert any(line.startswith(f"GET {srv.url}/doc?lang=en → 200") for line in run.logs("fetch"))
    assert key not in run.raw
