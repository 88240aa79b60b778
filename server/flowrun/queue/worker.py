"""`flowrun worker`: a Celery worker (prefork, `--concurrency` processes) whose task runs one
execution per delivery (`runner.run_delivery`), and which answers `flowrun_stop`."""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass
from typing import Any

from flowrun.queue.app import QUEUE, TASK, check_broker, make_app
from flowrun.queue.control import register_stop_command
from flowrun.queue.message import Delivery


@dataclass(frozen=True)
class WorkerOptions:
    queue: str
    db: str
    name: str
    concurrency: int
    python: str | None
    loglevel: str = "INFO"


def default_name() -> str:
    return f"flowrun@{socket.gethostname()}"


def execute(delivery: Delivery) -> str:
    """The task, in a pool process: the worker's history, name and interpreter come from the
    environment `serve_forever` set (never from the message)."""
    from flowrun.queue.runner import run_delivery

    return asyncio.run(
        run_delivery(
            delivery,
            db=os.environ["FLOWRUN_WORKER_DB"],
            worker=os.environ["FLOWRUN_WORKER_NAME"],
            python=os.environ.get("FLOWRUN_WORKER_PYTHON") or None,
        )
    )


def build(options: WorkerOptions) -> Any:
    app = make_app(options.queue)
    app.task(name=TASK, acks_late=True)(execute)
    register_stop_command()
    return app


def serve_forever(options: WorkerOptions) -> None:
    """Checks the broker (a clear error), then runs the worker until SIGTERM (Celery's warm
    shutdown: the executions under way finish first)."""
    app = build(options)
    check_broker(app, options.queue)
    os.environ["FLOWRUN_WORKER_DB"] = options.db
    os.environ["FLOWRUN_WORKER_NAME"] = options.name
    if options.python:
        os.environ["FLOWRUN_WORKER_PYTHON"] = options.python
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
