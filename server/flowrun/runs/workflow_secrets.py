"""The secrets a run gets: the declared ones, plus the set provider keys for llm/agent nodes.

Values come from the process environment, then the nearest `.env` (`flowrun.runs.dotenv`,
imported only when a workflow has secrets: it loads dataclasses, which `flowrun run`'s
early child must not wait for).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from flowrun.runs.errors import MissingSecret

# The API-key variables of providers the `llm` and `agent` nodes read by default: passed
# (as secrets, so redacted) to workflows with such nodes when they are set.
PROVIDER_KEYS = (
    "OPENAI_API_KEY",
    "GROQ_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "XAI_API_KEY",
)


class FoundSecrets(NamedTuple):
    values: dict[str, str]
    missing: list[str]
    dotenv: Path | None  # the .env file that was read, if any


def gather_secrets(workflow: dict[str, Any], path: Path) -> FoundSecrets:
    """The declared secrets (plus the set provider keys for llm/agent nodes, appended to
    `workflow["secrets"]` so the engine redacts them)."""
    names = list(workflow.get("secrets") or [])
    providers = _uses_providers(workflow)
    if not names and not providers:
        return FoundSecrets({}, [], None)
    from flowrun.runs.dotenv import load_secrets

    found = load_secrets(names, path.parent)
    if found.missing:
        return FoundSecrets(found.values, found.missing, found.dotenv)
    values = dict(found.values)
    if providers:
        extra = [k for k in PROVIDER_KEYS if k not in values]
        provider = load_secrets(extra, path.parent)
        values.update(provider.values)
        workflow["secrets"] = names + [k for k in provider.values if k not in names]
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


def _uses_providers(workflow: dict[str, Any]) -> bool:
    return any(
        node.get("type") in ("llm", "agent")
        for stage in workflow.get("stages") or []
        for node in stage.get("nodes") or []
    )
