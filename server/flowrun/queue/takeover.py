"""Whether a delivery still holds its execution, or a later delivery took it over.

Redis away for longer than the visibility timeout: the lease of a running execution could
not be renewed, so the broker may deliver its task again, and another worker then runs the
execution as the next attempt while this one goes on (at-least-once). From then on the
execution's rows are the later attempt's: this one records nothing more there, and ends its
own attempt's row (`execution_attempts`) with how its run really ended.

Asking the history costs a query, so it is asked for each event only once the lease had
trouble (a renewal failed, or found the delivery given back), and at the end. Otherwise it is
asked in the background at most once a `RECHECK` (a task sent twice is delivered twice with
no lease trouble: the first delivery then stops writing about a second after the second's
claim); an event never waits for that answer, so a history away for a while holds up no
event (the writes wait for it in the writer, as any other)."""

from __future__ import annotations

import asyncio
import threading
import time

from flowrun.history.location import HistoryError
from flowrun.history.store import HistoryStore

RECHECK = 1.0  # seconds between two questions to the history without lease trouble


class Holding:
    def __init__(
        self,
        store: HistoryStore,
        execution_id: str,
        attempt: int | None,
        trouble: threading.Event | None,
    ) -> None:
        self._store = store
        self._execution_id = execution_id
        self.attempt = attempt
        self._trouble = trouble
        self.taken_over = False
        self._next_check = time.monotonic() + RECHECK
        self._rechecking: asyncio.Task[bool] | None = None

    async def held(self, *, ask: bool = False) -> bool:
        """Whether the execution's rows are still this attempt's; `ask`: the history is asked
        now even if the lease had no trouble (before the end is recorded)."""
        if self.taken_over or self.attempt is None:
            return not self.taken_over
        if ask or (self._trouble is not None and self._trouble.is_set()):
            return await self._ask()
        if time.monotonic() >= self._next_check and self._rechecking is None:
            self._rechecking = asyncio.create_task(self._recheck())
        return True

    async def _recheck(self) -> bool:
        try:
            return await self._ask()
        finally:
            self._next_check = time.monotonic() + RECHECK
            self._rechecking = None

    async def _ask(self) -> bool:
        try:
            now = await self._store.attempt_of(self._execution_id)
        except HistoryError:
            return True  # unreachable (or unreadable) now: the writes wait for it as any other
        self.taken_over = now is not None and now != self.attempt
        return not self.taken_over
