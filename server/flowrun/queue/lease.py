"""The lease of a delivery: while a worker runs an execution, it keeps the broker from
delivering the task again, however long the execution runs.

Redis (kombu's transport) keeps each unacknowledged delivery in the sorted set
`unacked_index`, scored by the time it was delivered; a sweep gives back to the queue every
delivery older than the visibility timeout. The lease moves the score of its delivery to
now every quarter of the timeout (`ZADD … XX`: never re-adds an acknowledged one). A worker
that dies stops renewing: its task comes back one visibility timeout later. A renewal that
fails (Redis restarting) is tried again at the next beat; an outage longer than the timeout
can let the task be delivered again while it runs (documented in the README). Then `trouble`
is set (a renewal failed, or found the delivery given back to the queue): the runner asks
the history whether a later delivery took the execution over (`takeover`).
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

UNACKED_INDEX = "unacked_index"  # kombu.transport.redis.Channel.unacked_index_key


class Lease:
    def __init__(self, broker: str, tag: str | None, every: float) -> None:
        self._broker = broker
        self._tag = tag
        self._every = max(0.5, every)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="flowrun-lease", daemon=True)
        self.renewals = 0
        self.trouble = threading.Event()

    def __enter__(self) -> Lease:
        if self._tag is not None:
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _beat(self) -> None:
        client = _client(self._broker)
        try:
            while not self._stop.wait(self._every):
                self.renew(client)
        finally:
            client.close()

    def renew(self, client: Any) -> None:
        try:
            changed = client.zadd(UNACKED_INDEX, {self._tag: time.time()}, xx=True, ch=True)
        except Exception as exc:  # Redis away: the next beat tries again
            self.trouble.set()
            log.warning("queue: the lease of a delivery was not renewed: %s", type(exc).__name__)
            return
        if changed:
            self.renewals += 1
        else:  # swept back to the queue: another worker may take it
            self.trouble.set()


def _client(broker: str) -> Any:
    import redis

    return redis.Redis.from_url(broker, socket_timeout=5, socket_connect_timeout=5)
