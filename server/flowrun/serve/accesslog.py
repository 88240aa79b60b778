"""One access-log line per request: method, route, status, execution id, duration.

Never the query, headers or body (they may hold secrets); the route is its template.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO


class AccessLog:
    def __init__(self, fmt: str = "text", stream: TextIO | None = None) -> None:
        self.format = fmt
        self.stream = stream

    def write(
        self, method: str, route: str, status: int, execution_id: str | None, seconds: float
    ) -> None:
        ms = round(seconds * 1000, 1)
        if self.format == "json":
            line = json.dumps(
                {
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "method": method,
                    "route": route,
                    "status": status,
                    "executionId": execution_id,
                    "durationMs": ms,
                }
            )
        else:
            line = f"{method} {route} {status} {execution_id or '-'} {ms}ms"
        stream = self.stream or sys.stderr
        stream.write(line + "\n")
        stream.flush()
