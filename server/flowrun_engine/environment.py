"""The environment of a run: the variables nodes get, the secrets and the `env` context.

Secrets come from the process environment (the supervisor puts them there); a secret that
is not set is looked up in the workspace `.env` file (`NAME=value` lines).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RunEnvironment:
    variables: dict[str, str]  # what shell/python nodes see
    secrets: dict[str, str]  # secret name → value (missing secrets are absent)


def build_environment(
    *,
    environ: Mapping[str, str],
    workflow_env: Mapping[str, object],
    secret_names: Iterable[str],
    cwd: str,
    flowrun_vars: Mapping[str, str],
) -> RunEnvironment:
    secrets = load_secrets(secret_names, environ, cwd)
    variables = {
        **environ,
        **{k: "" if v is None else str(v) for k, v in workflow_env.items()},
        **secrets,
        **flowrun_vars,
    }
    return RunEnvironment(variables=variables, secrets=secrets)


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
