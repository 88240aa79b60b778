"""`llm`: one chat request to a model provider, over HTTP with the standard library.

openai, groq, ollama and openai-compatible speak chat-completions
(`POST {base_url}/chat/completions`); anthropic speaks the Messages API
(`POST {base_url}/v1/messages`). The output is the same for all:
`{content, model, usage: {input_tokens, output_tokens, total_tokens}, finish_reason}`, with
anthropic's stop reasons mapped to chat-completions names (`end_turn` → `stop`,
`max_tokens` → `length`). The API key comes from `api_key`, else from the provider's usual
environment variable; it is sent in a header only and never logged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowrun_engine.context import NodeContext
from flowrun_engine.errors import NodeError, execution_error
from flowrun_engine.events import Redactor
from flowrun_engine.expr import to_text
from flowrun_engine.nodes._net_http import NetworkError, Response, send, status_phrase
from flowrun_engine.nodes._params import provider_of
from flowrun_engine.usage import Usage, from_response

ANTHROPIC_VERSION = "2023-06-01"
ANTHROPIC_MAX_TOKENS = 1024
_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str | None
    key_env: str | None
    messages_api: bool = False


PROVIDERS = {
    p.name: p
    for p in (
        Provider("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"),
        Provider("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
        Provider("ollama", "http://localhost:11434/v1", None),
        Provider("openai-compatible", None, None),
        Provider("anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY", messages_api=True),
    )
}


@dataclass(frozen=True)
class _Request:
    url: str
    headers: dict[str, str]
    body: dict[str, Any]


async def run(params: dict[str, Any], ctx: NodeContext) -> Any:
    provider = _provider(params, ctx.node_id)
    model = _model(params, ctx.node_id)
    key = _api_key(provider, params, ctx)
    request = _build(provider, model, params, key, ctx.node_id)
    try:
        response = await send(
            "POST",
            request.url,
            headers=request.headers,
            body=json.dumps(request.body, allow_nan=False).encode(),
            timeout=ctx.timeout,
        )
    except NetworkError as exc:
        raise NodeError(
            "ProviderError",
            f"could not reach {provider.name}: {exc.message}",
            suggestion=_network_suggestion(provider, exc),
        ) from None
    if response.status >= 400:
        raise _status_error(provider, model, response, key)
    output = _output(provider, response)
    usage = output["usage"]
    ctx.metrics.add_llm(
        provider.name, output["model"] or model, usage["input_tokens"], usage["output_tokens"]
    )
    if problem := ctx.metrics.price_table().problem:
        ctx.log("info", f"prices not read: {problem}")
    tokens = usage.get("total_tokens")
    used = f", {tokens} tokens" if tokens is not None else ""
    ctx.log("info", f"{provider.name} {model} → {response.status} ({response.elapsed_ms} ms{used})")
    return output


def _provider(params: dict[str, Any], node_id: str) -> Provider:
    return provider_of(params, PROVIDERS, node_id, "llm")


def _model(params: dict[str, Any], node_id: str) -> str:
    model = params.get("model")
    if not isinstance(model, str) or not model:
        raise execution_error(
            f"node `{node_id}` has no `model`",
            "set `model` to the provider's model name, e.g. llama-3.1-8b-instant",
        )
    return model


def _api_key(provider: Provider, params: dict[str, Any], ctx: NodeContext) -> str | None:
    key = params.get("api_key")
    if isinstance(key, str) and key:
        return key
    if provider.key_env is None:
        return None
    key = ctx.env.get(provider.key_env)
    if key:
        return key
    env = provider.key_env
    raise NodeError(
        "ProviderError",
        f"no API key for {provider.name}: set {env} in the environment or .env, list it under"
        f" secrets:, and pass api_key: ${{{{ secrets.{env} }}}}",
        suggestion=f"add `secrets: [{env}]` to the workflow and"
        f" `api_key: ${{{{ secrets.{env} }}}}` to the node's `with`",
    )


def _base_url(provider: Provider, params: dict[str, Any], node_id: str) -> str:
    base = params.get("base_url") or provider.base_url
    if not isinstance(base, str) or not base:
        raise execution_error(
            f"node `{node_id}`: provider {provider.name} needs `base_url`",
            "set `base_url` to the server's API root, e.g. http://localhost:8000/v1",
        )
    return base.rstrip("/")


def _messages(params: dict[str, Any], node_id: str) -> list[dict[str, Any]]:
    raw = params.get("messages")
    if raw is not None and not (
        isinstance(raw, list) and all(isinstance(m, dict) and "role" in m for m in raw)
    ):
        raise execution_error(
            f"node `{node_id}`: `messages` must be a list of {{role, content}} mappings",
            "for example `messages: [{role: user, content: Hello}]`, or use `prompt`",
        )
    messages = [dict(m) for m in raw or []]
    prompt = params.get("prompt")
    if prompt is not None:
        messages.append({"role": "user", "content": to_text(prompt)})
    if not messages:
        raise execution_error(
            f"node `{node_id}` has neither `prompt` nor `messages`",
            "add `prompt:` with the text to send to the model",
        )
    return messages


def _build(
    provider: Provider, model: str, params: dict[str, Any], key: str | None, node_id: str
) -> _Request:
    base = _base_url(provider, params, node_id)
    messages = _messages(params, node_id)
    system = params.get("system")
    options = {k: params[k] for k in ("temperature", "max_tokens") if params.get(k) is not None}
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if provider.messages_api:
        return _messages_request(base, model, messages, system, options, headers, key)
    if system is not None:
        messages.insert(0, {"role": "system", "content": to_text(system)})
    if key:
        headers["Authorization"] = f"Bearer {key}"
    url = f"{base}/chat/completions"
    return _Request(url, headers, {"model": model, "messages": messages, **options})


def _messages_request(
    base: str,
    model: str,
    messages: list[dict[str, Any]],
    system: Any,
    options: dict[str, Any],
    headers: dict[str, str],
    key: str | None,
) -> _Request:
    systems = [to_text(system)] if system is not None else []
    systems += [to_text(m.get("content")) for m in messages if m["role"] == "system"]
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": options.get("max_tokens", ANTHROPIC_MAX_TOKENS),
    }
    if systems:
        body["system"] = "\n\n".join(systems)
    body["messages"] = [m for m in messages if m["role"] != "system"]
    if "temperature" in options:
        body["temperature"] = options["temperature"]
    headers["x-api-key"] = key or ""
    headers["anthropic-version"] = ANTHROPIC_VERSION
    url = f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"
    return _Request(url, headers, body)


def _output(provider: Provider, response: Response) -> dict[str, Any]:
    try:
        data = response.json()
        if provider.messages_api:
            return _from_messages(data)
        return _from_chat(data)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise NodeError(
            "ProviderError",
            f"{provider.name} sent a response that is not a chat completion:"
            f" {response.text()[:300]}",
            suggestion="check `base_url`: it must point at the provider's API root",
        ) from None


def _from_chat(data: dict[str, Any]) -> dict[str, Any]:
    """A chat completion, or Ollama's own `/api/chat` answer (`message`, `done_reason`)."""
    choice = data["choices"][0] if "choices" in data else data
    reason = choice.get("finish_reason", choice.get("done_reason"))
    return {
        "content": choice["message"].get("content") or "",
        "model": data.get("model"),
        "usage": _usage(from_response(data)),
        "finish_reason": reason,
    }


def _from_messages(data: dict[str, Any]) -> dict[str, Any]:
    blocks = data["content"]
    text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    reason = data.get("stop_reason")
    return {
        "content": text,
        "model": data.get("model"),
        "usage": _usage(from_response(data)),
        "finish_reason": _STOP_REASONS.get(reason, reason) if isinstance(reason, str) else reason,
    }


def _usage(usage: Usage) -> dict[str, Any]:
    given, made = usage.input_tokens, usage.output_tokens
    total = given + made if given is not None and made is not None else None
    return {"input_tokens": given, "output_tokens": made, "total_tokens": total}


def _status_error(provider: Provider, model: str, response: Response, key: str | None) -> NodeError:
    detail = _provider_message(response, Redactor([key] if key else []).text)
    phrase = status_phrase(response.status, response.reason)
    return NodeError(
        "ProviderError",
        f"{provider.name} returned {response.status} {phrase}: {detail}",
        suggestion=_status_suggestion(provider, model, response.status),
    )


def _provider_message(response: Response, redact: Callable[[str], str]) -> str:
    """The provider's own error message from its JSON error body, else the body's start."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return redact(str(error["message"]))
        if isinstance(error, str):
            return redact(error)
        if isinstance(data.get("message"), str):
            return redact(str(data["message"]))
    text = redact(response.text().strip())  # before the cut, which could halve the key
    return text[:500] if text else "(empty body)"


def _status_suggestion(provider: Provider, model: str, status: int) -> str:
    if status in (401, 403):
        where = f" ({provider.key_env})" if provider.key_env else ""
        return f"check the API key for {provider.name}{where}: it is missing, wrong or revoked"
    if status == 404:
        return f"check the model name {model!r} and `base_url`"
    if status == 429:
        return "rate limited or out of quota: wait, or add `retry:` with a backoff to the node"
    if status >= 500:
        return f"{provider.name} failed or is overloaded: try again later, or add `retry:`"
    return "check the node's parameters (model, messages, temperature, max_tokens)"


def _network_suggestion(provider: Provider, exc: NetworkError) -> str:
    if provider.name == "ollama" and "refused" in exc.message:
        return "start Ollama (`ollama serve`), or set `base_url` to where it listens"
    return exc.suggestion
