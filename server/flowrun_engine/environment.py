"""The environment of a run: the variables nodes get, the secrets and the `env` context.

Secrets come from the process environment (the supervisor puts them there); a secret that
is not set is looked up in the workspace `.env` file (`NAME=value` lines).

The workflow's top-level `env` values may hold `${{ }}` expressions: they are evaluated once,
before any node runs, with the `inputs`, `trigger`, `secrets` and `env` (the process
environment) contexts. A secret set but shorter than `MIN_SECRET_LENGTH` characters is
refused: masking it would mask every such short text in the logs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowrun_engine import expr
from flowrun_engine.events import MIN_SECRET_LENGTH


@dataclass(frozen=True)
class RunEnvironment:
    variables: dict[str, str]  # what shell/python nodes see
    secrets: dict[str, str]  # secret name → value (missing secrets are absent)
    workflow_env: dict[str, str] = field(default_factory=dict)  # `env:`, evaluated
    # why the run cannot start ({type, message, suggestion}), or None
    error: dict[str, Any] | None = None


def build_environment(
    *,
    environ: Mapping[str, str],
    workflow_env: Mapping[str, object],
    secret_names: Iterable[str],
    cwd: str,
    flowrun_vars: Mapping[str, str],
    context: Mapping[str, Any] | None = None,
) -> RunEnvironment:
    """`context` gives `inputs` and `trigger` to the expressions of `workflow_env`."""
    secrets = load_secrets(secret_names, environ, cwd)
    error = _short_secret(secrets)
    contexts = {**(context or {}), "secrets": secrets, "env": dict(environ)}
    evaluated: dict[str, str] = {}
    for name, value in workflow_env.items():
        try:
            evaluated[name] = _env_value(value, contexts)
        except (expr.ExprSyntaxError, expr.ExprEvalError) as exc:
            evaluated[name] = ""
            error = error or {
                "type": "ExecutionError",
                "message": f"`env.{name}`: an expression failed: {exc}",
                "suggestion": "fix the expression; `env:` can use inputs, trigger, secrets and env",
            }
    variables = {**environ, **evaluated, **secrets, **flowrun_vars}
    return RunEnvironment(variables, secrets, evaluated, error)


def _env_value(value: object, contexts: Mapping[str, Any]) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and "${{" in value:
        return expr.to_text(expr.render(value, contexts))
    return str(value)


def _short_secret(secrets: Mapping[str, str]) -> dict[str, Any] | None:
    short = [name for name, value in secrets.items() if 0 < len(value) < MIN_SECRET_LENGTH]
    if not short:
        return None
    names = ", ".join(f"`{n}`" for n in short)
    return {
        "type": "SecretTooShort",
        "message": f"the secret {names} is shorter than {MIN_SECRET_LENGTH} characters, "
        "too short to hide in logs without hiding ordinary text",
        "suggestion": "use the real value (API keys and tokens are longer), or remove the "
        "name from `secrets:` if it is not a secret",
    }


def load_secrets(names: Iterable[str], environ: Mapping[str, str], cwd: str) -> dict[str, str]:
    wanted = list(names)
    found = {n: environ[n] for n in wanted if n in environ}
    missing = [n for n in wanted if n not in found]
    if missing:
        dotenv = read_dotenv(os.path.join(cwd, ".env"))
        found.update({n: dotenv[n] for n in missing if n in dotenv})
    return found


def read_dotenv(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    values: dict[str, str] = {}
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        values[key.strip()] = _unquote(value.strip())
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
