"""`GET /openapi.json`: one operation per served workflow, from its inputs and trigger."""

from __future__ import annotations

from typing import Any

from flowrun import __version__
from flowrun.serve.routes import PARAM, Route, RouteTable

ERROR = {
    "type": "object",
    "properties": {
        "executionId": {"type": "string"},
        "error": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
        },
    },
}


def document(table: RouteTable) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in sorted(table.routes, key=lambda r: (r.path, r.method)):
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Flowrun workflows", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def operation(route: Route) -> dict[str, Any]:
    workflow = route.workflow
    trigger = workflow.trigger
    op: dict[str, Any] = {
        "operationId": route.workflow_id,
        "summary": workflow.name or route.workflow_id,
        "parameters": _parameters(route),
        "responses": _responses(route),
    }
    if workflow.description:
        op["description"] = workflow.description
    if route.method not in ("GET", "HEAD", "DELETE"):
        media: dict[str, Any] = {"schema": _body_schema(route)}
        if trigger.sample is not None and trigger.sample.body is not None:
            media["example"] = trigger.sample.body
        op["requestBody"] = {"content": {"application/json": media}}
    if trigger.auth is not None and trigger.auth.bearer is not None:
        op["security"] = [{"bearer": []}]
    return op


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in PARAM.findall(route.path)
    ]
    sample = route.workflow.trigger.sample
    for name, value in (sample.query if sample is not None else {}).items():
        params.append({"name": name, "in": "query", "schema": {}, "example": value})
    hmac = route.workflow.trigger.auth.hmac if route.workflow.trigger.auth else None
    if hmac is not None:
        params.append(
            {"name": hmac.header, "in": "header", "required": True, "schema": {"type": "string"}}
        )
    return params


def _body_schema(route: Route) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in route.workflow.inputs.items():
        schema: dict[str, Any] = {"type": spec.type} if spec.type else {}
        if spec.description:
            schema["description"] = spec.description
        if "default" in spec.model_fields_set:
            schema["default"] = spec.default
        properties[name] = schema
        if spec.is_required:
            required.append(name)
    body: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body["required"] = required
    return body


def _responses(route: Route) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if route.workflow.trigger.respond == "accepted":
        responses: dict[str, Any] = {"202": {"description": "Accepted; see Location."}}
    else:
        outputs: dict[str, Any] = {name: {} for name in route.workflow.outputs}
        schema = {"type": "object", "properties": outputs}
        responses = {
            "200": {
                "description": "The workflow's outputs.",
                "content": {"application/json": {"schema": schema}},
            },
            "500": {"description": "The execution failed.", **error},
            "504": {"description": "Over trigger.timeout.", **error},
        }
    responses["503"] = {"description": "Queue full or shutting down.", **error}
    if route.authenticated:
        responses["401"] = {"description": "Unauthorized."}
    return responses
