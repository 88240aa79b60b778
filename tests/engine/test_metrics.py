"""Per-node metrics: usage from each provider's own fields, prices, agent JSON, http bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes_net import (
    CLAUDE_CODE_RESULT,
    CODEX_JSONL,
    GEMINI_RESULT,
    Recorded,
    Reply,
    anthropic_cached_message,
    anthropic_message,
    chat_completion,
    env_with_path,
    llm_output,
    ollama_chat,
    serve,
    write_cli,
)

from conftest import Engine, node, node_context, workflow
from flowrun_engine import prices, usage
from flowrun_engine.metrics import NodeMetrics
from flowrun_engine.nodes import agent, http, llm

KEY = "sk-test-0123456789abcdef"


@pytest.mark.parametrize(
    ("provider", "reply", "model", "tokens", "cost"),
    [
        # groq llama-3.1-8b-instant: $0.05 in, $0.08 out per million
        ("groq", chat_completion("x"), "llama-3.1-8b-instant", (21, 9), (21 * 0.05 + 9 * 0.08)),
        # openai answers with the dated name of the model asked for
        (
            "openai",
            chat_completion("x", "gpt-4o-mini-2024-07-18"),
            "gpt-4o-mini-2024-07-18",
            (21, 9),
            (21 * 0.15 + 9 * 0.60),
        ),
        (
            "anthropic",
            anthropic_message("x"),
            "claude-3-5-haiku-20241022",
            (12, 6),
            (12 * 0.80 + 6 * 4.0),
        ),
        (
            "anthropic",
            anthropic_cached_message("x"),
            "claude-sonnet-4-20250514",
            (3010, 50),
            (3010 * 3.0 + 50 * 15.0),
        ),
        ("ollama", ollama_chat("x"), "llama3.2", (26, 282), 0.0),  # local: costs nothing
        ("openai-compatible", chat_completion("x", "my-finetune"), "my-finetune", (21, 9), None),
    ],
)
async def test_llm_usage_and_cost_per_provider(
    tmp_path: Path,
    provider: str,
    reply: dict[str, Any],
    model: str,
    tokens: tuple[int, int],
    cost: float | None,
) -> None:
    ctx = node_context(tmp_path)
    with serve(Reply(200, reply)) as srv:
        params = {"provider": provider, "model": model, "prompt": "hi", "api_key": KEY}
        out = await llm.run({**params, "base_url": srv.url}, ctx)
    assert (out["usage"]["input_tokens"], out["usage"]["output_tokens"]) == tokens
    metrics = ctx.metrics.to_event()
    assert metrics is not None
    assert metrics["llm_calls"] == 1
    assert (metrics["provider"], metrics["model"]) == (provider, model)
    assert (metrics["input_tokens"], metrics["output_tokens"]) == tokens
    if cost is None:
        assert "cost_usd" not in metrics and metrics["cost_unknown"] == 1
    else:
        assert metrics["cost_usd"] == pytest.approx(cost / 1_000_000)
        assert "cost_unknown" not in metrics


async def test_ollama_native_answer_is_read(tmp_path: Path) -> None:
    ctx = node_context(tmp_path)
    with serve(Reply(200, ollama_chat("Paris."))) as srv:
        out = await llm.run(
            {"provider": "ollama", "model": "llama3.2", "prompt": "x", "base_url": srv.url}, ctx
        )
    assert out == llm_output("Paris.", "llama3.2", (26, 282))


async def test_workspace_prices_override_and_extend(tmp_path: Path) -> None:
    (tmp_path / ".flowrun").mkdir()
    (tmp_path / ".flowrun" / "prices.toml").write_text(
        'date = "2026-12-01"\n[models."my-finetune"]\ninput = 2.0\noutput = 4.0\n'
        '[models."llama-3.1-8b-instant"]\ninput = 1\noutput = 1\n'
    )
    sub = tmp_path / "flows"
    sub.mkdir()
    table = prices.load(str(sub))  # found from a sub-folder of the root
    assert table.date == "2026-12-01"
    assert table.cost("my-finetune", 1_000_000, 500_000) == pytest.approx(4.0)
    assert table.cost("llama-3.1-8b-instant", 10, 10) == pytest.approx(20 / 1_000_000)
    assert table.cost("gpt-4o", 1_000_000, 0) == pytest.approx(2.5)  # shipped, untouched
    assert table.cost("no-such-model", 10, 10) is None
    assert prices.Prices().price("gpt-4o-2024-08-06") == prices.SHIPPED["gpt-4o"]
    assert prices.Prices().price("gpt-4o-mini-tts") is None  # not a date suffix: no guess


def test_a_broken_prices_file_keeps_the_shipped_table(tmp_path: Path) -> None:
    (tmp_path / ".flowrun").mkdir()
    (tmp_path / ".flowrun" / "prices.toml").write_text('[models."x"]\ninput = "cheap"\n')
    table = prices.load(str(tmp_path))
    assert table.problem is not None and "input" in table.problem
    assert table.models == prices.SHIPPED


def test_cost_arithmetic_over_calls() -> None:
    metrics = NodeMetrics()
    metrics.add_llm("openai", "gpt-4o", 1000, 500)
    metrics.add_llm("openai", "gpt-4o", 2000, 0)
    metrics.add_llm("openai-compatible", "mystery", 10, 10)  # unknown: tokens, no cost
    event = metrics.to_event()
    assert event == {
        "llm_calls": 3,
        "input_tokens": 3010,
        "output_tokens": 510,
        "provider": "openai-compatible",
        "model": "mystery",
        "cost_usd": pytest.approx((3000 * 2.5 + 500 * 10.0) / 1_000_000),
        "cost_unknown": 1,
    }
    assert NodeMetrics().to_event() is None
    missing = NodeMetrics()
    missing.add_llm("groq", "llama-3.1-8b-instant", None, None)  # no usage reported
    assert missing.to_event() == {
        "llm_calls": 1,
        "input_tokens": 0,
        "output_tokens": 0,
        "provider": "groq",
        "model": "llama-3.1-8b-instant",
        "cost_unknown": 1,
    }


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        (
            json.dumps(CLAUDE_CODE_RESULT),
            usage.Usage(17239, 312, 0.0421, 2, "claude-sonnet-4-20250514"),
        ),
        (CODEX_JSONL, usage.Usage(24763, 122, None, 1)),
        (json.dumps(GEMINI_RESULT), usage.Usage(24939, 174, None, 2, "gemini-2.5-pro")),
        ("Done. I changed two files.", None),
        ('{"answer": 42}', None),
    ],
)
def test_agent_json_usage(stdout: str, expected: usage.Usage | None) -> None:
    assert usage.from_agent_output(stdout) == expected


async def test_agent_node_counts_what_the_cli_reports(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    body = f"import sys\nprint({json.dumps(json.dumps(CLAUDE_CODE_RESULT))})\n"
    write_cli(bin_dir, "claude", body)
    ctx = node_context(tmp_path, env_with_path(bin_dir))
    await agent.run({"provider": "claude-code", "prompt": "add a usage section"}, ctx)
    assert ctx.metrics.to_event() == {
        "llm_calls": 2,
        "input_tokens": 17239,
        "output_tokens": 312,
        "provider": "claude-code",
        "model": "claude-sonnet-4-20250514",
        "cost_usd": 0.0421,
    }
    plain = node_context(tmp_path, env_with_path(bin_dir))
    write_cli(bin_dir, "claude", "print('done')\n")
    await agent.run({"provider": "claude-code", "prompt": "x"}, plain)
    assert plain.metrics.to_event() is None  # no JSON asked for: unknown


async def test_http_status_and_bytes(tmp_path: Path) -> None:
    ctx = node_context(tmp_path)
    with serve(Reply(200, b"x" * 1234)) as srv:
        await http.run({"url": srv.url}, ctx)
    assert ctx.metrics.to_event() == {"http_status": 200, "http_bytes": 1234}


def test_metrics_in_node_finished_over_retries(engine: Engine, tmp_path: Path) -> None:
    """A failed attempt's tokens were paid for: node_finished carries every attempt's."""
    calls: list[int] = []

    def responder(req: Recorded) -> Reply:
        calls.append(1)
        if len(calls) == 1:
            return Reply(200, {"choices": "not a completion", "usage": {}})
        return Reply(200, chat_completion("ok", "gpt-4o-mini"))

    with serve(responder) as srv:
        run = engine(
            workflow(
                node(
                    "ask",
                    "llm",
                    retry={"attempts": 2, "backoff": 0.01},
                    with_={
                        "provider": "openai",
                        "model": "gpt-4o-mini",
                        "prompt": "hi",
                        "api_key": KEY,
                        "base_url": srv.url,
                    },
                ),
                node("plain", "transform"),
                cwd=str(tmp_path),
            )
        )
    assert run.status == "succeeded", run.raw
    [finished] = run.of("node_finished", "ask")
    assert finished["metrics"] == {
        "llm_calls": 1,
        "input_tokens": 21,
        "output_tokens": 9,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "cost_usd": pytest.approx((21 * 0.15 + 9 * 0.60) / 1_000_000),
    }
    assert "metrics" not in run.of("node_finished", "plain")[0]
