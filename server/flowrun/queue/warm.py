"""Warm engine children in a worker's pool process, as `flowrun serve` has them: for each
interpreter its executions use, one child forked ahead by a fork server (the engine already
imported), so a delivery costs a fork, not an interpreter start and the imports. A child is
never reused (isolation of a cold child); another is forked behind each one taken."""

from __future__ import annotations

import logging

from flowrun.runs.launch import LaunchSpec
from flowrun.runs.prespawn import Prespawned

log = logging.getLogger(__name__)
_pools: dict[str, object] = {}  # interpreter → its WarmPool


def take(spec: LaunchSpec) -> Prespawned | None:
    """A warm child handed `spec`'s header; None when none can start (a cold child runs)."""
    from flowrun.serve.pool import WarmPool

    pool = _pools.get(spec.python)
    if not isinstance(pool, WarmPool):
        pool = _pools[spec.python] = WarmPool(spec.python, 1)
    try:
        return pool.take().prespawned(spec)
    except OSError as exc:
        log.warning("no warm engine child with %s (%s): a cold one starts", spec.python, exc)
        return None


def close_all() -> None:
    """The pool process ends: its warm children and fork servers with it."""
    from flowrun.serve.pool import WarmPool

    for pool in _pools.values():
        if isinstance(pool, WarmPool):
            pool.close()
    _pools.clear()
