"""Token usage as each provider reports it, read from its own fields (never estimated).

* chat completions (OpenAI, Groq, vLLM, Ollama's `/v1`): `usage.prompt_tokens`,
  `usage.completion_tokens`;
* Anthropic Messages: `usage.input_tokens`, `usage.output_tokens` (plus
  `cache_creation_input_tokens` and `cache_read_input_tokens`, which are input too);
* Ollama's own API (`/api/chat`, `/api/generate`): `prompt_eval_count`, `eval_count`;
* agent CLIs asked for JSON output: Claude Code (`--output-format json`: `usage`,
  `total_cost_usd`, `num_turns`), Codex (`exec --json`: `turn.completed` lines with `usage`),
  Gemini CLI (`--output-format json`: `stats.models.<model>.tokens`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_CACHE_INPUT = ("cache_creation_input_tokens", "cache_read_input_tokens")


@dataclass(frozen=True)
class Usage:
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None = None  # only when the tool itself reported it
    calls: int = 1
    model: str | None = None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _sum(*values: Any) -> int | None:
    found = [v for v in map(_int, values) if v is not None]
    return sum(found) if found else None


def from_response(data: Mapping[str, Any]) -> Usage:
    """The usage of one chat-completions, Messages or Ollama response body."""
    usage = data.get("usage")
    if isinstance(usage, Mapping):
        if "prompt_tokens" in usage or "completion_tokens" in usage:
            return Usage(_int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")))
        extra = [usage.get(k) for k in _CACHE_INPUT]
        return Usage(_sum(usage.get("input_tokens"), *extra), _int(usage.get("output_tokens")))
    if "prompt_eval_count" in data or "eval_count" in data:
        return Usage(_int(data.get("prompt_eval_count")), _int(data.get("eval_count")))
    return Usage(None, None)


def from_agent_output(stdout: str) -> Usage | None:
    """What an agent CLI's JSON output says it used; None when it printed no such JSON."""
    text = stdout.strip()
    if not text.startswith("{"):
        return None
    try:
        return _from_document(json.loads(text))
    except ValueError:
        return _from_lines(text.splitlines())


def _from_document(data: Any) -> Usage | None:
    if not isinstance(data, Mapping):
        return None
    if data.get("type") == "result" and isinstance(data.get("usage"), Mapping):  # Claude Code
        usage = from_response(data)
        cost = data.get("total_cost_usd")
        turns = _int(data.get("num_turns")) or 1
        model_usage = data.get("modelUsage")
        model = next(iter(model_usage), None) if isinstance(model_usage, Mapping) else None
        price = float(cost) if isinstance(cost, int | float) else None
        return Usage(usage.input_tokens, usage.output_tokens, price, turns, model)
    stats = data.get("stats")
    if isinstance(stats, Mapping) and isinstance(stats.get("models"), Mapping):  # Gemini CLI
        return _from_gemini(stats["models"])
    return None


def _from_gemini(models: Mapping[str, Any]) -> Usage | None:
    inputs = outputs = calls = 0
    for entry in models.values():
        tokens = entry.get("tokens") if isinstance(entry, Mapping) else None
        if not isinstance(tokens, Mapping):
            continue
        inputs += _int(tokens.get("prompt")) or 0
        outputs += (_int(tokens.get("candidates")) or 0) + (_int(tokens.get("thoughts")) or 0)
        api = entry.get("api")
        calls += (_int(api.get("totalRequests")) if isinstance(api, Mapping) else None) or 1
    if not calls:
        return None
    return Usage(inputs, outputs, None, calls, next(iter(models)) if len(models) == 1 else None)


def _from_lines(lines: list[str]) -> Usage | None:
    """Codex's JSON lines: one `turn.completed` with `usage` per turn."""
    inputs = outputs = calls = 0
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, Mapping) and event.get("type") == "turn.completed":
            found = event.get("usage")
            usage: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
            inputs += _int(usage.get("input_tokens")) or 0
            outputs += _int(usage.get("output_tokens")) or 0
            calls += 1
    return Usage(inputs, outputs, None, calls) if calls else None
