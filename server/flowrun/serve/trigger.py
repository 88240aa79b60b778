"""An HTTP request → the `trigger` (and `inputs`) of a production execution."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from flowrun.spec.models import Workflow


def trigger_of(
    method: str,
    path: str,
    headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]],
    body: bytes,
    params: Mapping[str, str],
) -> dict[str, Any]:
    """Header names lower-cased; a repeated query key keeps its last value."""
    lowered = {name.lower(): value for name, value in headers}
    return {
        "method": method.upper(),
        "path": path,
        "headers": lowered,
        "query": dict(query),
        "body": parse_body(body, lowered.get("content-type", "")),
        "params": dict(params),
    }


def parse_body(body: bytes, content_type: str) -> Any:
    """JSON when the content type says so (and it parses), else text; None when empty."""
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def given_inputs(workflow: Workflow, trigger: Mapping[str, Any]) -> dict[str, Any]:
    """The declared inputs found in the request: the JSON body's keys, else the query's."""
    body = trigger.get("body")
    query = trigger.get("query") or {}
    given: dict[str, Any] = {}
    for name in workflow.inputs:
        if isinstance(body, dict) and name in body:
            given[name] = body[name]
        elif name in query:
            given[name] = query[name]
    return given
