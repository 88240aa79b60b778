"""What one running server holds: options, the route table, the dispatcher, the metrics."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from flowrun.history.store import HistoryStore
from flowrun.serve.accesslog import AccessLog
from flowrun.serve.dispatch import Dispatcher
from flowrun.serve.metrics import Metrics
from flowrun.serve.routes import RouteTable

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class ServeOptions:
    folders: list[Path]
    host: str = "127.0.0.1"
    port: int = 8080
    max_concurrent: int = field(default_factory=lambda: os.cpu_count() or 2)
    queue_size: int = 100
    warm: int = 2
    db: Path | str | None = None  # a file, or a postgresql:// URL
    grace: float = 30.0
    log_format: str = "text"
    max_body: int = 1024 * 1024
    python: str | None = None
    reload: bool = True
    retention: int = 1000
    queue: str | None = None  # redis://…: executions run on `flowrun worker`s


@dataclass
class ServeState:
    options: ServeOptions
    store: HistoryStore
    dispatcher: Dispatcher
    metrics: Metrics
    access: AccessLog
    table: RouteTable = field(default_factory=RouteTable)
    draining: bool = False
