"""What a queued execution carries to a worker: the workflow (path and text: the worker
need not share the submitter's disk), its inputs and trigger, its mode. Never the history's
URL nor a secret: a worker uses its own `--db` and its own environment."""

from __future__ import annotations

from typing import Any, TypedDict


class Delivery(TypedDict):
    execution_id: str
    file: str
    text: str
    inputs: dict[str, Any]
    trigger: dict[str, Any] | None
    mode: str
    timeout: float | None
