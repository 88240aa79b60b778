"""The Celery application every part of queue mode builds the same way (submitter, worker,
stopper): one task, `flowrun.execute`, whose id is the execution id, on the queue `flowrun`.

Late acknowledgement: a task is acknowledged when its execution ended, so a worker that dies
mid-execution leaves it unacknowledged and the broker delivers it again, to any worker, once
the visibility timeout (`FLOWRUN_QUEUE_VISIBILITY`, seconds, default 600) expired. A worker
renews the delivery of each execution it runs (`lease.Lease`, every quarter of the timeout),
so an execution of any length (an agent running for hours) is never delivered again while it
runs; the timeout only bounds how long the task of a dead worker waits. Every worker sweeps
for expired deliveries every `restore_interval()` seconds (kombu's default is 100), under a
lock that expires after `mutex_expiry()` seconds (kombu's default is 300).
"""

from __future__ import annotations

import os
from typing import Any

from flowrun.history.location import redact
from flowrun.runs.errors import FlowrunError

TASK = "flowrun.execute"
QUEUE = "flowrun"
DEFAULT_VISIBILITY = 600.0


class QueueError(FlowrunError):
    type_name = "QueueError"


def visibility_timeout() -> float:
    return float(os.environ.get("FLOWRUN_QUEUE_VISIBILITY") or DEFAULT_VISIBILITY)


def restore_interval() -> float:
    """Seconds between two sweeps for expired deliveries: a tenth of the timeout, 1 to 10."""
    return max(1.0, min(10.0, visibility_timeout() / 10))


def mutex_expiry() -> int:
    """Seconds the sweep's lock lives: kombu's 300 s would let a worker killed, or a Redis
    stopped, in the middle of a sweep (a few ms) hold every sweep back for five minutes, and
    with them the tasks of dead workers. Two sweeps at once are safe (each restore is a
    transaction on the delivery); three intervals leave a slow sweep its time."""
    return int(max(5.0, 3 * restore_interval()))


def make_app(broker: str) -> Any:
    """The Celery app for `broker` (redis://…)."""
    try:
        from celery import Celery
    except ImportError:  # pragma: no cover - the extra is not installed
        raise QueueError(
            "Queue mode needs the extra flowrun[queue].",
            suggestion="pip install 'flowrun[queue]'",
        ) from None
    app = Celery("flowrun", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options={
            "visibility_timeout": visibility_timeout(),
            "unacked_restore_interval": restore_interval(),
            "unacked_restore_throttle": 1,  # sweep on every interval, not every 10th
            "unacked_mutex_expire": mutex_expiry(),
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a broker gone mid-run: retry, lose nothing
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
    )
    return app


def check_broker(app: Any, broker: str, timeout: float = 10.0) -> None:
    """A clear error (and no password) when Redis cannot be reached at start."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        raise QueueError(
            f"Cannot reach the queue {redact(broker)}: {type(exc).__name__}",
            suggestion="Check that Redis is running and the URL (host, port, database) is right.",
        ) from None
