"""Engine events written in batches, with a future per batch that says "committed".

Events are buffered and written in one transaction: at once when no batch was written in the
last 50 ms, else 50 ms after the previous batch began (so a burst costs ~20 transactions a
second, and a lone event is not kept waiting). `add` returns the future of the batch that
holds the event: whoever announces the event (the LSP notification, the CLI's display) awaits
it first, so what the user is shown is always readable from the history, and survives a
killed process (issue 12.8/12.9).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from flowrun.history import rows
from flowrun.history.recorder import EventRecorder, Finish, Write, compact
from flowrun.history.sql import Connection, Database
from flowrun_engine import events as ev

log = logging.getLogger(__name__)

FLUSH_DELAY = 0.05
Committed = asyncio.Future[None]


class BatchWriter:
    def __init__(
        self, db: Database, records: Mapping[str, rows.ExecutionRecord], *, delay: float
    ) -> None:
        self._db = db
        self._records = records  # the active executions (for `execution_started`'s plan)
        self._delay = delay
        self.recorder = EventRecorder()
        self.ended_by_event: dict[str, str] = {}  # execution id → status of its Finish
        self._pending: list[Write] = []
        self._touched: set[str] = set()
        self._committed: Committed | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_batch = -1e9
        self._spawn: Callable[[Awaitable[Any]], None] | None = None

    def start(self, spawn: Callable[[Awaitable[Any]], None]) -> None:
        self._spawn = spawn

    def add(self, execution_id: str, event: Mapping[str, Any]) -> Committed:
        """Buffer the event's writes; the returned future is done once they are committed
        (or, if they could not be, once that is known: a run never waits on the history)."""
        loop = asyncio.get_running_loop()
        ops = self.recorder.ops(execution_id, event)
        if not ops:
            done = loop.create_future()
            done.set_result(None)
            return done
        self._remember(execution_id, event, ops)
        self._pending.extend(ops)
        self._touched.add(execution_id)
        if self._committed is None:
            self._committed = loop.create_future()
        if self._timer is None:
            delay = max(0.0, self._last_batch + self._delay - time.monotonic())
            self._timer = loop.call_later(delay, self._flush_soon)
        return self._committed

    async def flush(self) -> None:
        """Write what is buffered now (and wait for a batch being written)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        async with self._db.lock:  # taken inside the lock: batches are written in order
            ops, touched, committed = self._pending, self._touched, self._committed
            self._pending, self._touched, self._committed = [], set(), None
            if not ops:
                return
            self._last_batch = time.monotonic()
            try:
                await self._db.write_locked(lambda conn: self._write_batch(conn, ops, touched))
            except sqlite3.OperationalError as exc:
                if _busy(exc):  # another process holds the file: the next flush retries
                    self._requeue(ops, touched, committed)
                else:
                    _resolve(committed)
                raise
            except BaseException:
                _resolve(committed)  # lost (said in the log); the run goes on
                raise
            _resolve(committed)

    def forget(self, execution_id: str) -> None:
        self.recorder.forget(execution_id)
        self.ended_by_event.pop(execution_id, None)

    # -- internals ------------------------------------------------------------------------

    def _remember(self, execution_id: str, event: Mapping[str, Any], ops: list[Write]) -> None:
        record = self._records.get(execution_id)
        if event.get("event") == ev.EXECUTION_STARTED and record is not None:
            op = ops[0]
            if isinstance(op, tuple):  # (sql, (t, plan, id))
                record.started_at = record.started_at or op[1][0]
                record.plan = op[1][1]
                record.status = "running"
        for op in ops:
            if isinstance(op, Finish):
                self.ended_by_event[execution_id] = op.status

    def _flush_soon(self) -> None:
        self._timer = None
        if self._spawn is not None:
            self._spawn(self.flush())

    def _requeue(self, ops: list[Write], touched: set[str], committed: Committed | None) -> None:
        self._pending[:0] = ops
        self._touched |= touched
        if committed is not None:
            if self._committed is None:
                self._committed = committed
            else:
                self._committed.add_done_callback(lambda _: _resolve(committed))
        if self._timer is None and self._pending:
            self._timer = asyncio.get_running_loop().call_later(self._delay, self._flush_soon)

    async def _write_batch(self, conn: Connection, ops: list[Write], touched: set[str]) -> None:
        for statement in compact(ops):
            if isinstance(statement, Finish):
                await rows.finish_row(
                    conn, statement.execution_id, statement.status, statement.outputs,
                    statement.error, statement.finished_at,
                )  # fmt: skip
            else:
                await conn.executemany(*statement)
        now = time.time()
        await conn.executemany(
            "UPDATE executions SET updated_at = ? WHERE id = ?", [(now, i) for i in touched]
        )


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(exc) or "busy" in str(exc)
    return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _resolve(committed: Committed | None) -> None:
    if committed is not None and not committed.done():
        committed.set_result(None)
