"""Run the server: load the routes, open the history, warm the pool, recover, serve, drain.

SIGTERM/SIGINT start the drain: new requests get 503 (`/healthz` too) while the running
executions get up to `--grace` to finish; then they are stopped (whole process groups,
recorded `stopped`) and the process exits 0. A second SIGINT exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from flowrun.history.store import HistoryStore, default_db_path
from flowrun.serve import reload
from flowrun.serve.accesslog import AccessLog
from flowrun.serve.app import create_app
from flowrun.serve.dispatch import Dispatcher, Execution
from flowrun.serve.metrics import Metrics
from flowrun.serve.pool import WarmPool
from flowrun.serve.routes import RouteTable
from flowrun.serve.state import LOOPBACK, ServeOptions, ServeState
from flowrun.telemetry import from_environment

log = logging.getLogger("flowrun.serve")


class _Server(uvicorn.Server):
    """uvicorn, with our drain before its own shutdown, and exit 0 after a signal."""

    def __init__(self, config: uvicorn.Config, state: ServeState) -> None:
        super().__init__(config)
        self.serve_state = state
        self.loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.serve_state.draining or self.loop is None:
            self.should_exit = True
            self.force_exit = self.serve_state.draining and sig == signal.SIGINT
            return
        self.serve_state.draining = True
        self.serve_state.dispatcher.draining = True
        log.info(
            "%s: draining (up to %gs)", signal.Signals(sig).name, self.serve_state.options.grace
        )
        self.loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        self._drain = asyncio.ensure_future(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        loop = asyncio.get_running_loop()
        dispatcher = self.serve_state.dispatcher
        await dispatcher.wait_running(loop.time() + self.serve_state.options.grace)
        left = dispatcher.started()
        if left:
            log.info("grace over: stopping %d execution(s)", len(left))
        await dispatcher.stop_all()
        self.should_exit = True


def run(options: ServeOptions, table: RouteTable, python: str) -> int:
    """Serve until a signal; `table` was loaded (and checked for conflicts) by the caller."""
    state_box: dict[str, ServeState] = {}
    db = options.db or default_db_path(options.folders[0])

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        state = state_box["state"]
        state.store = await HistoryStore.open(db, retention=options.retention)
        state.dispatcher.store = state.store
        server.loop = asyncio.get_running_loop()
        state.dispatcher.pool.fill()
        rerun, interrupted = await state.dispatcher.recover(
            {str(r.file): r for r in state.table.routes}
        )
        if rerun or interrupted:
            log.info("recovered: %d queued re-run, %d interrupted", len(rerun), len(interrupted))
        stop = asyncio.Event()
        watcher = asyncio.create_task(reload.watch(state, options.folders, stop))
        log.info(
            "serving on http://%s:%d (history %s)", options.host, options.port, state.store.location
        )
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(watcher, 2.0)
            await state.dispatcher.stop_all()
            state.dispatcher.pool.close()
            await state.store.close()

    state = _state(options, table, python)
    state_box["state"] = state
    app = create_app(state, lifespan=lifespan)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=30,
        # not uvloop: its pipe transports close an engine's pipe fd twice (libuv, then the
        # file object), and a fork of the warm pool in another thread can get that fd
        # number in between: a child lost its stdin, or a failed fork ended the children
        # of the fork server (500s under load)
        loop="asyncio",
    )
    server = _Server(config, state)
    server.run()
    return 0 if server.started else 1


def _state(options: ServeOptions, table: RouteTable, python: str) -> ServeState:
    pool = WarmPool(python, 0 if options.queue else options.warm)  # queue: no local child
    holder: list[ServeState] = []

    def observe(what: str, execution: Execution | None, result: Any, seconds: float) -> None:
        if execution is None or result is None or not holder:
            return
        if what == "node_finished":  # result: the event
            holder[0].metrics.node(execution.route.workflow_id, result)
        else:
            holder[0].metrics.execution(execution.route.workflow_id, result.status, seconds)

    kind: Any = Dispatcher
    extra: dict[str, Any] = {}
    if options.queue:
        from flowrun.queue.app import make_app
        from flowrun.serve.queued import QueueDispatcher

        kind, extra = QueueDispatcher, {"app": make_app(options.queue)}
    dispatcher = kind(
        None,  # opened in the lifespan, on the server's loop
        pool,
        max_concurrent=options.max_concurrent,
        queue_size=options.queue_size,
        observe=observe,
        tracing=from_environment(),
        **extra,
    )
    metrics = Metrics(lambda: float(dispatcher.waiting), lambda: float(dispatcher.running))
    state = ServeState(
        options=options,
        store=None,  # type: ignore[arg-type]
        dispatcher=dispatcher,
        metrics=metrics,
        access=AccessLog(options.log_format),
        table=table,
    )
    holder.append(state)
    return state


def startup_report(options: ServeOptions, table: RouteTable) -> list[str]:
    """What the start log says about the routes: each route, ignored pins, open routes."""
    lines: list[str] = []
    for route in sorted(table.routes, key=lambda r: (r.path, r.method)):
        lines.append(f"{route.method} {route.path} -> {_short(route.file)}:{route.line}")
        if route.pinned:
            lines.append(f"  pins ignored in production: {', '.join(route.pinned)}")
        if not route.authenticated and options.host not in LOOPBACK:
            lines.append(
                f"  warning: {route.method} {route.path} has no trigger.auth and is served "
                f"on {options.host}, not only on this machine"
            )
    return lines


def _short(file: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(file.relative_to(Path.cwd()))
    return str(file)
