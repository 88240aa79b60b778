"""The server's side of the validation worker (`worker.py`): a queue of jobs, one process.

Jobs for open documents go before workspace scans. Cancelling a job that waits drops it;
cancelling the running one drops its result, and when its text is large the worker is
killed and restarted at the next job, so a stale validation of a big file never delays the
newer one. Nothing here runs validation on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import sys
from collections import deque
from dataclasses import dataclass, field

from flowrun.lsp.worker import HEADER, Checked, Item

log = logging.getLogger(__name__)

# Above this many characters a stale validation is killed rather than finished.
KILL_ABOVE = 256_000
STREAM_LIMIT = 2**26
# Not `-m flowrun.lsp.worker`: its classes would pickle as `__main__.Checked`.
WORKER_COMMAND = [sys.executable, "-c", "import sys, flowrun.lsp.worker as w; sys.exit(w.main())"]


class WorkerFailed(Exception):
    """The worker ended before it answered (crashed, out of memory, killed from outside)."""


@dataclass(eq=False)
class _Job:
    items: list[Item]
    urgent: bool
    future: asyncio.Future[list[Checked]]
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = sum(len(item.text or "") for item in self.items)


class ValidationWorker:
    def __init__(self, command: list[str] | None = None) -> None:
        self._command = command or WORKER_COMMAND
        self._process: asyncio.subprocess.Process | None = None
        self._queue: deque[_Job] = deque()
        self._running: _Job | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    async def check(self, items: list[Item], *, urgent: bool = True) -> list[Checked]:
        """Validate `items` in the worker; cancelling the caller cancels the job."""
        job = _Job(items, urgent, asyncio.get_running_loop().create_future())
        if urgent:
            self._insert_urgent(job)
        else:
            self._queue.append(job)
        self._wake.set()
        if self._loop is None or self._loop.done():
            self._loop = asyncio.ensure_future(self._serve())
        try:
            return await job.future
        except asyncio.CancelledError:
            self._cancel(job)
            raise

    async def start(self) -> None:
        """Start the process ahead of the first job (it imports the validator)."""
        await self._ensure_process()

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loop
        for job in [*self._queue, *([self._running] if self._running else [])]:
            job.future.cancel()
        self._queue.clear()
        await self._stop_process()

    def _insert_urgent(self, job: _Job) -> None:
        """After the other urgent jobs, before every background one."""
        position = next((i for i, queued in enumerate(self._queue) if not queued.urgent), None)
        if position is None:
            self._queue.append(job)
        else:
            self._queue.insert(position, job)

    def _cancel(self, job: _Job) -> None:
        if job in self._queue:
            self._queue.remove(job)
        elif job is self._running and job.size > KILL_ABOVE and self._process is not None:
            log.debug("Killing the validation worker: its job (%d chars) is stale", job.size)
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    async def _serve(self) -> None:
        while True:
            while not self._queue:
                self._wake.clear()
                await self._wake.wait()
            job = self._queue.popleft()
            if job.future.done():
                continue
            self._running = job
            try:
                result = await self._exchange(job)
            except Exception as exc:  # the worker broke, or its answer cannot be read
                await self._stop_process()
                if not job.future.done():
                    job.future.set_exception(WorkerFailed(f"validation failed: {exc}"))
            else:
                if not job.future.done():
                    job.future.set_result(result)
            finally:
                self._running = None

    async def _exchange(self, job: _Job) -> list[Checked]:
        process = await self._ensure_process()
        assert process.stdin is not None and process.stdout is not None
        body = pickle.dumps(job.items, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            process.stdin.write(HEADER.pack(len(body)) + body)
            await process.stdin.drain()
            (size,) = HEADER.unpack(await process.stdout.readexactly(HEADER.size))
            data = await process.stdout.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise WorkerFailed("the validation worker ended before it answered") from exc
        if job.future.done():
            return []  # stale: not worth unpickling on the event loop
        reply: list[Checked] = pickle.loads(data)
        return reply

    async def _ensure_process(self) -> asyncio.subprocess.Process:
        if self._process is None or self._process.returncode is not None:
            self._process = await asyncio.create_subprocess_exec(
                *self._command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=STREAM_LIMIT,
            )
        return self._process

    async def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        with contextlib.suppress(ProcessLookupError):
            if process.returncode is None:
                process.kill()
        await process.wait()
