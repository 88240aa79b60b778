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


SENSITIVE_HEADERS = ("authorization", "proxy-authorization")


def masked(trigger: dict[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    """The trigger as recorded and given to the workflow: credentials headers and secret
    values replaced by `***` (the server checked them; nothing downstream needs them)."""
    headers = dict(trigger["headers"])
    for name in SENSITIVE_HEADERS:
        if name in headers:
            scheme, _, rest = headers[name].partition(" ")
            headers[name] = f"{scheme} ***" if rest else "***"
    result = {**trigger, "headers": headers}
    values = [v for v in secrets.values() if v]
    if not values:
        return result
    text = json.dumps(result)
    if not any(json.dumps(v)[1:-1] in text for v in values):
        return result
    for value in values:
        text = text.replace(json.dumps(value)[1:-1], "***")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
