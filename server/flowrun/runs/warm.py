"""Warm engine children for the runs of a process, as `flowrun serve` has them: for each
interpreter its executions use, a `WarmPool` (`serve/pool.py`) whose children are forked
ahead by a fork server (the engine already imported), so an execution costs a fork, not an
interpreter start and the imports. A child is never reused (isolation of a cold child);
another is forked behind each one taken. Used by a queue worker's pool process and by the
local `flowrun batch` (through `RunService(warm=...)`)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from flowrun.runs.launch import LaunchSpec
from flowrun.runs.prespawn import Prespawned

if TYPE_CHECKING:
    from flowrun.serve.pool import WarmPool

log = logging.getLogger(__name__)


class WarmChildren:
    """`size` warm children ready per interpreter; `take(spec)` one, `close()` them all."""

    def __init__(self, size: int = 1) -> None:
        self.size = size
        self._pools: dict[str, WarmPool] = {}
        self._lock = threading.Lock()

    def take(self, spec: LaunchSpec) -> Prespawned | None:
        """A warm child handed `spec`'s header; None when none can start (a cold child runs)
        or the spec names its own engine (tests' fakes: only a cold child runs those)."""
        if spec.engine is not None:
            return None
        from flowrun.serve.pool import WarmPool  # the fork server's code: loaded when used

        with self._lock:
            pool = self._pools.get(spec.python)
            if pool is None:
                pool = self._pools[spec.python] = WarmPool(spec.python, self.size)
        try:
            return pool.take().prespawned(spec)
        except OSError as exc:
            log.warning("no warm engine child with %s (%s): a cold one starts", spec.python, exc)
            return None

    def close(self) -> None:
        """The runs are over: the ready children and the fork servers end."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
