"""The secrets a run gets: the declared ones, plus the API key of each provider an llm or
agent node names literally (`provider: groq` → GROQ_API_KEY), when it is set. Never the
other provider keys that happen to be in the environment or `.env`.

Values come from the process environment, then the nearest `.env` (`flowrun.runs.dotenv`,
imported only when a workflow has secrets: it loads dataclasses, which `flowrun run`'s
early child must not wait for).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from flowrun.runs.errors import MissingSecret

# The API-key variables the providers of the `llm` and `agent` nodes read by default.
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "claude-code": ("ANTHROPIC_API_KEY",),
    "codex": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "grok": ("XAI_API_KEY",),
}


class FoundSecrets(NamedTuple):
    values: dict[str, str]
    missing: list[str]
    dotenv: Path | None  # the .env file that was read, if any


def gather_secrets(workflow: dict[str, Any], path: Path) -> FoundSecrets:
    """The declared secrets, plus the set keys of the providers the nodes name (appended
    to `workflow["secrets"]` so the engine redacts them)."""
    names = list(workflow.get("secrets") or [])
    provider_keys = [key for key in named_provider_keys(workflow) if key not in names]
    if not names and not provider_keys:
        return FoundSecrets({}, [], None)
    from flowrun.runs.dotenv import load_secrets

    found = load_secrets(names, path.parent)
    if found.missing:
        return FoundSecrets(found.values, found.missing, found.dotenv)
    values = dict(found.values)
    if provider_keys:
        provider = load_secrets(provider_keys, path.parent)  # optional: not "missing"
        values.update(provider.values)
        workflow["secrets"] = names + list(provider.values)
    return FoundSecrets(values, [], found.dotenv)


def required_secrets(resolved: dict[str, Any], path: Path) -> dict[str, str]:
    """The secret values of a run; `MissingSecret` when a declared one is not found."""
    found = gather_secrets(resolved["workflow"], path)
    if found.missing:
        where = f"the environment or {found.dotenv}" if found.dotenv else "the environment"
        raise MissingSecret(
            f"Secret{'s' if len(found.missing) > 1 else ''} "
            f"{', '.join(found.missing)} not found in {where} (declared in `secrets` "
            f"of {path.name}).",
            suggestion=f"Export {found.missing[0]}=... or add it to a .env file next to "
            "the workflow; values are passed to the run as environment variables only.",
        )
    return found.values


def named_provider_keys(workflow: dict[str, Any]) -> list[str]:
    """The key variables of the providers that llm/agent nodes name in `with.provider`."""
    keys: list[str] = []
    for stage in workflow.get("stages") or []:
        for node in stage.get("nodes") or []:
            if node.get("type") not in ("llm", "agent"):
                continue
            provider = (node.get("with") or {}).get("provider")
            for key in PROVIDER_KEYS.get(provider, ()) if isinstance(provider, str) else ():
                if key not in keys:
                    keys.append(key)
    return keys
