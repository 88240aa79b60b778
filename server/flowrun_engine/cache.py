"""Opt-in result cache of `llm`, `http` and `python` nodes (`cache: true | 1h | {ttl, production}`).

A node's result is reused when its resolved request is the same: the key is the SHA-256 of
the workflow id, the node's id and type and its rendered `with` (inputs, code, model,
parameters), in which every secret value is replaced by a hash of it first — the key never
depends on a secret in clear, and nothing of the request is stored. An entry is one JSON file,
`<root>/.flowrun/cache/<workflow id>/<key>.json` (0600), holding the output, when it was
made and the node's metrics then; `root` is the nearest folder up from the workflow's folder
holding `.flowrun` or `.git`. A `python` node given as `function:` is keyed by the function's
name, not its source: give such a node a `ttl`.

Never read or written when the run says so (`FLOWRUN_NO_CACHE=1`, `flowrun run --no-cache`),
nor in production unless the node says `cache: {production: true}`. A failed node is not
stored. A hit finishes the node `succeeded` at once (`node_finished` with `cached: true`,
`attempt: 0`, no metrics: it cost nothing).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flowrun_engine import workspace_root
from flowrun_engine.environment import RunEnvironment

CACHE_DIR = "cache"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class CachePolicy:
    ttl: float | None  # seconds; None: until `flowrun cache clear`
    production: bool = False

    @classmethod
    def of(cls, raw: Any) -> CachePolicy | None:
        if not isinstance(raw, Mapping):
            return None
        ttl = raw.get("ttl")
        return cls(
            float(ttl) if isinstance(ttl, int | float) else None, bool(raw.get("production"))
        )


def folder_for(root: str, workflow_id: str | None = None) -> str:
    """`<root>/.flowrun/cache`, or the folder of one workflow's entries."""
    base = os.path.join(root, workspace_root.FLOWRUN_DIR, CACHE_DIR)
    return os.path.join(base, _UNSAFE.sub("_", workflow_id)) if workflow_id else base


class ResultCache:
    """The cache of one run."""

    def __init__(
        self, cwd: str, workflow_id: str, secrets: Mapping[str, str], *, enabled: bool, mode: str
    ) -> None:
        self._cwd = cwd
        self._workflow_id = workflow_id
        self._secret_values = [v for v in secrets.values() if v]  # hashed on first use
        self.enabled = enabled
        self._production = mode == "production"
        self._folder: str | None = None

    @classmethod
    def for_run(
        cls, cwd: str, workflow_id: str, env: RunEnvironment, environ: Mapping[str, str]
    ) -> ResultCache:
        """The cache of a run: off with `FLOWRUN_NO_CACHE`, production-aware."""
        return cls(
            cwd,
            workflow_id,
            env.secrets,
            enabled=environ.get("FLOWRUN_NO_CACHE", "") not in ("1", "true", "yes"),
            mode=environ.get("FLOWRUN_EXECUTION_MODE", "test"),
        )

    def applies(self, policy: CachePolicy | None) -> bool:
        return policy is not None and self.enabled and (policy.production or not self._production)

    def key(self, node_id: str, node_type: str, params: Any) -> str:
        request = {
            "workflow": self._workflow_id,
            "node": node_id,
            "type": node_type,
            "with": self._hash_secrets(params),
        }
        return _sha256(json.dumps(request, sort_keys=True, ensure_ascii=False, default=repr))

    def get(self, key: str, policy: CachePolicy) -> dict[str, Any] | None:
        """The stored entry (`output`, `created_at`, `metrics`), None when absent or expired."""
        try:
            with open(self._path(key), encoding="utf-8") as file:
                entry = json.load(file)
        except (OSError, ValueError):
            return None
        created = entry.get("created_at") if isinstance(entry, dict) else None
        if not isinstance(created, int | float) or "output" not in entry:
            return None
        if policy.ttl is not None and time.time() - created > policy.ttl:
            return None
        return dict(entry)

    def put(self, key: str, node_id: str, output: Any, metrics: dict[str, Any] | None) -> None:
        """Store a result (atomically; a failure to write only costs the next run a call)."""
        entry = {"node": node_id, "created_at": time.time(), "output": output, "metrics": metrics}
        try:
            text = json.dumps(entry, ensure_ascii=False, allow_nan=False)
            folder = os.path.dirname(self._path(key))
            os.makedirs(folder, mode=0o700, exist_ok=True)
            _ignore_in_git(os.path.dirname(folder))
            import tempfile  # here: a run with no cached node never loads it

            fd, temp = tempfile.mkstemp(dir=folder, prefix=".entry-")
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temp, self._path(key))
        except (OSError, ValueError, TypeError):
            return

    def _path(self, key: str) -> str:
        if self._folder is None:
            root = workspace_root.find_root(self._cwd)
            self._folder = folder_for(root, self._workflow_id)
        return os.path.join(self._folder, f"{key}.json")

    @cached_property
    def _secrets(self) -> dict[str, str]:
        """Each secret's digest, which a key holds in its place."""
        return {v: _sha256(v) for v in self._secret_values}

    def _hash_secrets(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret, digest in self._secrets.items():
                value = value.replace(secret, f"<secret sha256:{digest}>")
            return value
        if isinstance(value, Mapping):
            return {str(k): self._hash_secrets(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._hash_secrets(v) for v in value]
        return value


def _sha256(text: str) -> str:
    import hashlib  # on a cached node's first use: not on every engine's start

    return hashlib.sha256(text.encode()).hexdigest()


def _ignore_in_git(cache_folder: str) -> None:
    marker = os.path.join(cache_folder, ".gitignore")
    if not os.path.exists(marker):
        with open(marker, "w", encoding="utf-8") as file:
            file.write("*\n")
