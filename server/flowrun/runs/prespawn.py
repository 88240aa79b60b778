"""The early child: `flowrun run` spawns the engine before asyncio, logging and the history load.

`early_child` spawns (`spawn_engine`, plain `subprocess`) the child a valid file gets (its
engine input from the resolved-file cache, else validated and resolved right here); it boots
meanwhile and waits for its stdin. `RunService.execute(prespawned=...)`
hands it to the `EngineChild` it would start when the specs match exactly (`adopt`), which
attaches to it; otherwise it is discarded.

On the early path: no asyncio, logging or dataclasses at module level here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

from flowrun.pyenv.known import known_executable
from flowrun.runs import resolved_cache
from flowrun.runs.launch import LaunchSpec, RunOptions, new_execution_id, spec_for_run, with_limits
from flowrun.runs.spawn import SpawnedEngine, spawn_engine
from flowrun.runs.workflow_secrets import gather_secrets


class Prespawned:
    """An engine child started before asyncio loaded, so that its interpreter boots while
    the caller loads the rest; it waits for its stdin, which only an `EngineChild` that
    adopts it writes. `discard()` it when nobody adopts it."""

    def __init__(self, engine: SpawnedEngine) -> None:
        self.engine = engine
        self.spec = engine.spec
        self.adopted = False
        self.discarded = False

    def discard(self) -> None:
        if not self.discarded:
            self.discarded = True
            self.engine.end()


def prespawn(spec: LaunchSpec) -> Prespawned:
    """Spawn the child of `spec` now, exactly as `EngineChild.start` would."""
    return Prespawned(spawn_engine(spec))


def early_child(
    path: Path, *, mode: str = "test", **options: Unpack[RunOptions]
) -> Prespawned | None:
    """Spawn the child of a run of `path` now, before asyncio and the history load, when
    the file is valid (cached, else validated now) and the interpreter is known without a
    probe (a plain executable, or a shim an earlier probe saw through); the engine boots
    meanwhile and waits for its input. Pass it to `execute(prespawned=...)`, which uses it
    only if it is exactly the child it would start, else kills it. None: nothing to gain
    (`execute` decides everything as usual)."""
    try:
        path = Path(path).resolve()
        source = resolved_cache.read_text(path)
        inputs, trigger = options.get("inputs"), options.get("trigger")
        key = (
            resolved_cache.cache_key(path, source, inputs, trigger) if source is not None else None
        )
        entry = resolved_cache.load_entry(key)
        if entry is None and source is not None:  # the engine boots after this, not after all
            from flowrun.runs.prepare import validate_early

            entry = validate_early(path, source, inputs, trigger)
        executable = known_executable(options.get("python"))
        if entry is None or entry.get("requires") or executable is None:
            return None
        resolved = with_limits(entry["resolved"], options)
        found = gather_secrets(resolved["workflow"], path)
        if found.missing:
            return None
        spec = spec_for_run(resolved, path, executable, new_execution_id(), found.values, mode)
        return prespawn(spec)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # the usual path reports whatever this is
