"""Sending executions to the queue in bulk (`flowrun batch --queue`): one producer for all,
its messages pipelined to Redis (kombu's `Producer.batch`, kombu >= 5.7: one round trip
per `PIPELINE` messages instead of one each).

Redis away (stopped, restarting): the messages are sent again, with backoff and without
limit, until the broker takes them, so no execution recorded `queued` is left without its
task. A send cut off while its pipeline was being written may have delivered part of it;
sending it again may give an execution a second task: delivery is at-least-once (a worker
skips an execution already ended; one still going may run a second time, as the README
says)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from typing import Any

from flowrun.queue.app import TASK
from flowrun.queue.message import Delivery

PIPELINE = 500  # messages per round trip to Redis
BACKOFF = (0.5, 1.0, 2.0, 4.0, 5.0)  # seconds between two tries, then 5 s each
log = logging.getLogger(__name__)


class Cancelled(Exception):
    """The submitter was stopped (Ctrl-C) while the broker was away."""


def send_all(app: Any, deliveries: Sequence[Delivery], cancel: threading.Event) -> int:
    """Send every delivery as a task whose id is its execution id; tries again while the
    broker cannot be reached (until `cancel` is set: `Cancelled`). The number of tries."""
    retriable = _broker_errors(app)
    for attempt in range(1_000_000):
        try:
            _send(app, deliveries)
            return attempt + 1
        except retriable as exc:
            if cancel.is_set():
                raise Cancelled(str(exc)) from None
            pause = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            cause = exc.__cause__ or exc
            log.warning(
                "the queue did not take %d tasks (%s); sending them again in %g s",
                len(deliveries), type(cause).__name__, pause,
            )  # fmt: skip
            if cancel.wait(pause):
                raise Cancelled(str(exc)) from None
    raise AssertionError("unreachable")


def _send(app: Any, deliveries: Sequence[Delivery]) -> None:
    with app.producer_or_acquire() as producer, _pipelined(producer):
        for delivery in deliveries:
            app.send_task(
                TASK, args=[delivery], task_id=delivery["execution_id"], producer=producer
            )


def _broker_errors(app: Any) -> tuple[type[BaseException], ...]:
    """What a broker away raises: the transport's connection errors, Celery's (its own
    retries exhausted) and kombu's uncertain pipeline."""
    from kombu import exceptions

    uncertain = getattr(exceptions, "BatchPublishError", exceptions.OperationalError)
    with app.connection_for_write() as conn:
        return (uncertain, exceptions.OperationalError, *conn.connection_errors)


def _pipelined(producer: Any) -> contextlib.AbstractContextManager[Any]:
    """kombu >= 5.7 pipelines a producer's messages; an older one sends each at once."""
    batch = getattr(producer, "batch", None)
    return contextlib.nullcontext() if batch is None else batch(max_size=PIPELINE)
