"""The FastAPI application: fixed endpoints, then one catch-all that serves the workflows.

The workflows are not FastAPI routes: the route table is swapped at once on hot reload, and
`/openapi.json` is generated from whatever table is current.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowrun.runs.errors import UnknownExecution
from flowrun.serve import handler, openapi
from flowrun.serve.metrics import UNMATCHED
from flowrun.serve.respond import error_body
from flowrun.serve.state import ServeState

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
FIXED = {"/healthz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect"}


def create_app(state: ServeState, lifespan: Any = None) -> FastAPI:
    app = FastAPI(title="Flowrun workflows", lifespan=lifespan, redoc_url=None)
    app.state.serve = state
    app.openapi = lambda: openapi.document(state.table)  # type: ignore[method-assign]

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        if state.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        return JSONResponse({"status": "ok", "routes": len(state.table.routes)})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/executions/{execution_id}", include_in_schema=False)
    async def execution(execution_id: str) -> JSONResponse:
        try:
            tree = await state.store.execution_tree(execution_id)
        except UnknownExecution:
            body = error_body("NotFound", f"no execution {execution_id}")
            return JSONResponse(body, status_code=404)
        return JSONResponse(tree)

    @app.api_route("/{full_path:path}", methods=METHODS, include_in_schema=False)
    async def workflow(request: Request) -> Response:
        answer = await handler.handle(state, request)
        return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)

    app.add_middleware(AccessMiddleware, state=state)
    return app


class AccessMiddleware:
    """The access-log line and request metrics of every request (pure ASGI: cheap)."""

    def __init__(self, app: ASGIApp, state: ServeState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            seconds = time.monotonic() - started
            info = scope.get("state") or {}
            path = str(scope.get("path", ""))
            route = info.get("route") or (path if path in FIXED else UNMATCHED)
            method = str(scope.get("method", ""))
            self.state.metrics.request(method, route, status, seconds)
            self.state.access.write(method, route, status, info.get("execution_id"), seconds)
