"""Announce a run's events in order, each once the history holds it (read-your-writes).

The supervisor hands every event to the history and gets back the future of the batch that
holds it; the announcer sends the event (the LSP notification, the CLI's display) only when
that future is done. So whoever reacts to a notification by reading the history finds what
it announced, and what the CLI showed as done survives `kill -9` (issues 12.8, 12.9). One
task per run drains the queue; the supervisor never waits for a commit.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Announcer:
    def __init__(self, send: Send) -> None:
        self._send = send
        self._queue: collections.deque[tuple[Awaitable[None], dict[str, Any]]] = collections.deque()
        self._task: asyncio.Task[None] | None = None

    def put(self, committed: Awaitable[None], event: dict[str, Any]) -> None:
        self._queue.append((committed, event))
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())

    async def drained(self) -> None:
        """Wait until every event put so far was announced."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        while self._queue:
            committed, event = self._queue.popleft()
            with contextlib.suppress(Exception):  # not recorded: the run still goes on
                await committed
            try:
                await self._send(event)
            except Exception:
                log.exception("announcing event %s failed", event.get("event"))
