"""One request to a served workflow: match, limit, authenticate, execute, answer."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from flowrun.serve import respond
from flowrun.serve.auth import authorized
from flowrun.serve.dispatch import Execution, QueueFull, unstarted
from flowrun.serve.respond import Answer, error_body
from flowrun.serve.routes import Route
from flowrun.serve.state import ServeState
from flowrun.serve.trigger import given_inputs, masked, trigger_of
from flowrun.spec.resolve import InputError

RETRY_AFTER = "1"


class TooLarge(Exception):
    pass


async def handle(state: ServeState, request: Request) -> Answer:
    method, path = request.method, request.url.path
    route, params, other_method = state.table.find(method, path)
    if route is None:
        if other_method:
            return Answer(405, error_body("MethodNotAllowed", f"{method} is not served here"))
        return Answer(404, error_body("NotFound", f"no workflow serves {method} {path}"))
    request.state.route = route.path
    if state.draining:
        return _unavailable("the server is shutting down")
    try:
        body = await read_body(request, state.options.max_body)
    except TooLarge:
        limit = state.options.max_body
        return Answer(413, error_body("PayloadTooLarge", f"the body is over {limit} bytes"))
    headers = {k.lower(): v for k, v in request.headers.items()}
    if not authorized(route.workflow.trigger.auth, route.secrets, headers, body):
        return Answer(401, {"error": {"type": "Unauthorized"}})
    trigger = masked(
        trigger_of(
            method, path, request.headers.items(), request.query_params.multi_items(), body, params
        ),
        route.secrets,
    )
    try:
        execution = await state.dispatcher.submit(
            route, trigger, given_inputs(route.workflow, trigger)
        )
    except QueueFull:
        return _unavailable("too many executions are waiting")
    except InputError as exc:
        return Answer(400, error_body("InvalidInput", str(exc)))
    request.state.execution_id = execution.id
    if route.workflow.trigger.respond == "accepted":
        location = f"/executions/{execution.id}"
        return Answer(202, {"executionId": execution.id}, {"Location": location})
    return await _wait(state, route, execution)


def _unavailable(message: str) -> Answer:
    return Answer(503, error_body("Unavailable", message), {"Retry-After": RETRY_AFTER})


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def _wait(state: ServeState, route: Route, execution: Execution) -> Answer:
    try:
        result = await asyncio.wait_for(asyncio.shield(execution.done), route.timeout)
    except TimeoutError:
        await state.dispatcher.stop(execution, "timed_out")
        if execution.child is None:  # still queued: it ends as soon as it gets a slot
            result = unstarted("timed_out", route.timeout)
        else:
            result = await asyncio.shield(execution.done)
    if result.status != "succeeded":
        return respond.failure(execution.id, result, route.secrets)
    context = response_context(route, execution)
    return respond.success(
        execution.id, result, route.workflow.trigger.response, context, route.secrets
    )


def response_context(route: Route, execution: Execution) -> dict[str, Any]:
    """What `trigger.response` expressions see (no secrets)."""
    return {
        "trigger": execution.trigger,
        "inputs": execution.inputs,
        "nodes": execution.nodes,
        "env": dict(route.resolved["workflow"].get("env") or {}),
    }
