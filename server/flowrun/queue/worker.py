"""`flowrun worker`: a Celery worker (prefork, `--concurrency` processes) whose task runs one
execution per delivery (`runner.run_delivery`) under a lease (`lease.Lease`), and which
answers `flowrun_stop`.

SIGTERM (or Ctrl-C) to the worker's main process is a warm shutdown: it takes no new
delivery, lets the executions under way finish for `--grace` seconds, then stops those still
running (recorded `stopped`, their processes gone) and exits 0. Deliveries it had not started
go back to the queue."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowrun.queue.app import QUEUE, TASK, check_broker, make_app, visibility_timeout
from flowrun.queue.control import install_stop_handler, register_stop_command, stop_pool
from flowrun.queue.lease import Lease
from flowrun.queue.message import Delivery

DEFAULT_GRACE = 30.0


@dataclass(frozen=True)
class WorkerOptions:
    queue: str
    db: str
    name: str
    concurrency: int
    python: str | None
    grace: float = DEFAULT_GRACE
    loglevel: str = "INFO"


_options: WorkerOptions | None = None  # set in the main process; pool processes inherit it
_deliveries: Any = None  # in a pool process: its `runner.Deliveries`


def default_name() -> str:
    return f"flowrun@{socket.gethostname()}"


def execute(task: Any, delivery: Delivery) -> str:
    """The task, in a pool process: the worker's broker, history, name and interpreter are
    the worker's own (never the message's)."""
    global _deliveries
    from celery.exceptions import Reject

    from flowrun.queue.runner import Abandoned, Deliveries

    options = _options
    assert options is not None, "the task runs in a flowrun worker"
    if _deliveries is None:
        _deliveries = Deliveries(options.db, options.name, options.python)
    tag = (task.request.properties or {}).get("delivery_tag")
    with Lease(options.queue, tag, every=visibility_timeout() / 4) as lease:
        try:
            status: str = _deliveries.run(delivery, lease.trouble)
        except Abandoned as exc:  # back to the queue, not acknowledged
            raise Reject(str(exc), requeue=True) from None
    return status


def build(options: WorkerOptions) -> Any:
    from celery import signals

    app = make_app(options.queue)
    app.task(name=TASK, bind=True, acks_late=True)(execute)
    register_stop_command()
    signals.worker_process_init.connect(_pool_process_started, weak=False)
    signals.worker_process_shutdown.connect(_pool_process_ending, weak=False)
    signals.worker_shutting_down.connect(_shutting_down, weak=False)
    return app


def serve_forever(options: WorkerOptions) -> None:
    """Checks the broker (a clear error), then runs the worker until SIGTERM."""
    global _options
    app = build(options)
    check_broker(app, options.queue)
    _options = options
    app.worker_main(
        [
            "worker",
            f"--concurrency={options.concurrency}",
            f"--hostname={options.name}",
            f"--loglevel={options.loglevel}",
            "--pool=prefork",
            f"--queues={QUEUE}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )


def _pool_process_started(**_kwargs: Any) -> None:
    install_stop_handler()


def _pool_process_ending(**_kwargs: Any) -> None:
    if _deliveries is not None:
        _deliveries.close()


def _shutting_down(**_kwargs: Any) -> None:
    """Warm shutdown began (in the main process): after the grace, stop what still runs."""
    grace = DEFAULT_GRACE if _options is None else _options.grace
    parent = os.getpid()
    timer = threading.Timer(grace, lambda: stop_pool(_children(parent)))
    timer.daemon = True
    timer.start()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found
