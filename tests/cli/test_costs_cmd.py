"""What a run cost, end to end: `flowrun run` against fake providers on 127.0.0.1, then what
`run`, `show`, `history --json`, `stats` and `diff` say about its tokens and cost."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes_net import Recorded, Reply, anthropic_message, chat_completion, serve

Cli = Callable[..., tuple[int, str, str]]  # the `cli` fixture (conftest.py)


WORKFLOW = """\
version: 1
id: costly
nodes:
  - id: ask
    type: llm
    with:
      provider: openai-compatible
      base_url: {url}/v1
      model: gpt-4o-mini
      prompt: Say hi
  - id: review
    type: llm
    needs: [ask]
    with:
      provider: anthropic
      base_url: {url}
      api_key: sk-ant-test-0123456789
      model: claude-3-5-haiku-20241022
      prompt: "Review: ${{{{ nodes.ask.output.content }}}}"
  - id: local
    type: llm
    with:
      provider: openai-compatible
      base_url: {url}/v1
      model: my-own-model
      prompt: x
  - id: fetch
    type: http
    with:
      url: {url}/doc
"""
# gpt-4o-mini: 21 in x $0.15/M + 9 out x $0.60/M; claude-3-5-haiku: 12 x $0.80/M + 6 x $4/M
ASK_COST = (21 * 0.15 + 9 * 0.60) / 1e6
REVIEW_COST = (12 * 0.80 + 6 * 4.0) / 1e6


def responder(req: Recorded) -> Reply:
    if req.path == "/doc":
        return Reply(200, b"x" * 300)
    if req.path == "/v1/messages":
        return Reply(200, anthropic_message("Looks fine."))
    return Reply(200, chat_completion("Hi!", req.json()["model"]))


def test_tokens_and_cost_everywhere(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "costly.workflow.yml"
    db = str(tmp_path / ".flowrun" / "history.sqlite3")
    with serve(responder) as srv:
        path.write_text(WORKFLOW.format(url=srv.url))
        code, out, err = cli("run", str(path), "--python", sys.executable)
        assert code == 0, err
        code, tree_json, err = cli("run", str(path), "--json", "--python", sys.executable)
    assert code == 0, err
    # the run's summary: the execution line and each node's
    assert "· 78 tok · $0.000042 · 3 LLM calls" in out
    assert "30 tok · $0.0000085" in out  # ask
    assert "200 · 300 bytes" in out  # fetch
    tree = json.loads(tree_json)
    assert (tree["llmCalls"], tree["inputTokens"], tree["outputTokens"]) == (3, 54, 24)
    assert tree["costUsd"] == pytest.approx(ASK_COST + REVIEW_COST)
    nodes = {n["id"]: n for n in tree["children"]}
    assert nodes["local"]["costUsd"] is None and nodes["local"]["inputTokens"] == 21
    assert nodes["review"]["metrics"] == {"provider": "anthropic",
                                          "model": "claude-3-5-haiku-20241022"}  # fmt: skip
    assert nodes["fetch"]["metrics"] == {"httpStatus": 200, "httpBytes": 300}

    code, out, _ = cli("history", "--json", "--db", db)
    newest, _older = json.loads(out)["executions"]
    assert newest["costUsd"] == pytest.approx(ASK_COST + REVIEW_COST) and newest["llmCalls"] == 3
    code, out, _ = cli("show", newest["id"], "--json", "--db", db)
    assert json.loads(out)["costUsd"] == newest["costUsd"]
    code, out, _ = cli("show", newest["id"], "--db", db)
    assert "$0.000042" in out

    code, out, _ = cli("stats", "--json", "--db", db)
    [stats] = json.loads(out)["workflows"]
    assert (stats["workflowId"], stats["executions"], stats["successRate"]) == ("costly", 2, 1.0)
    assert stats["llmCalls"] == 6 and stats["inputTokens"] == 108
    assert stats["costUsd"] == pytest.approx(2 * (ASK_COST + REVIEW_COST))
    assert stats["costPerRunUsd"] == pytest.approx(ASK_COST + REVIEW_COST)
    assert [n["id"] for n in stats["costliestNodes"]] == ["review", "ask"]
    assert stats["p50DurationMs"] is not None and stats["p95DurationMs"] is not None
    code, out, _ = cli("stats", "costly", "--since", "1h", "--db", db)
    assert code == 0 and "costly" in out and "$0.000084" in out and "costliest: review" in out
    code, out, _ = cli("stats", "nothing-like-it", "--db", db)
    assert out.strip() == "No executions match."


def test_diff_shows_the_change_in_tokens_and_cost(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "costly.workflow.yml"
    db = str(tmp_path / ".flowrun" / "history.sqlite3")
    ids: list[str] = []
    for model in ("gpt-4o-mini", "gpt-4o"):
        with serve(responder) as srv:
            path.write_text(WORKFLOW.format(url=srv.url).replace("gpt-4o-mini", model))
            code, out, err = cli("run", str(path), "--json", "--python", sys.executable)
        assert code == 0, err
        ids.append(json.loads(out)["id"])
    code, out, _ = cli("diff", *ids, "--json", "--db", db)
    result: dict[str, Any] = json.loads(out)
    dearer = (21 * 2.5 + 9 * 10.0) / 1e6 - ASK_COST
    assert result["cost"]["costUsd"]["delta"] == pytest.approx(dearer)
    assert result["cost"]["tokens"] == {"a": 78, "b": 78, "delta": 0}
    [ask] = [n for n in result["nodes"] if n["id"] == "ask"]
    assert ask["cost"]["costUsd"]["b"] == pytest.approx((21 * 2.5 + 9 * 10.0) / 1e6)
    code, out, _ = cli("diff", *ids, "--db", db)
    assert "Cost: 78 tok → 78 tok (+0) · $0.000042 → $0.00018 (+$0.00013)" in out
