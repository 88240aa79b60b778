"""`python`: `code` defining `main(**args)`, or `function: "package.module:attr"`.

The user's code runs in its own process (`flowrun_engine.pyrunner`, forked by the run's fork
server, an interpreter like the engine's: `forkserver.py`), so a timeout or a stop ends it,
and everything it started, like a shell command; and what it writes to its file
descriptors 1 and 2, by any means, is this node's stdout/stderr logs. The job goes in on
stdin and the result comes back on a pipe of its own (`marshal` data: the same interpreter
writes and reads it). The code is compiled with the file name `<file.workflow.yml:node_id>`
and padded so line numbers are those of the workflow file when the node carries
`code_line`.
"""

from __future__ import annotations

import marshal
from typing import Any

from flowrun_engine.context import NodeContext, ProcessResult
from flowrun_engine.errors import NodeError
from flowrun_engine.expr import to_text
from flowrun_engine.forkserver import ForkServer

STDERR_TAIL_LINES = 20


async def run(params: dict[str, Any], ctx: NodeContext) -> Any:
    if ctx.forks is not None:
        return await _run(params, ctx, ctx.forks)
    forks = ForkServer(ctx.env)  # a context built alone (tests): a server for this node
    try:
        return await _run(params, ctx, forks)
    finally:
        await forks.close()


async def _run(params: dict[str, Any], ctx: NodeContext, forks: ForkServer) -> Any:
    env = {str(k): to_text(v) for k, v in (params.get("env") or {}).items()}
    job = {
        "code": params.get("code"),
        "function": params.get("function"),
        "args": params.get("args"),
        "node_id": ctx.node_id,
        "workflow_file": ctx.workflow_file,
        "code_line": ctx.code_line,
        "cwd": ctx.cwd,
        # `with.env`: the node's own process, so no other node sees it
        "env": ctx.process_env({**ctx.env, **env}),
    }
    result = await ctx.run_forked(forks, marshal.dumps(job))
    reply = _reply(result)
    if reply is None:
        raise NodeError(
            "ExecutionError",
            _died_message(ctx.node_id, result),
            suggestion="the node's process ended before main() returned (os._exit, a crash "
            "or a signal); look at its stderr",
        )
    if not reply.get("ok"):
        error = reply.get("error") or {}
        raise NodeError(
            str(error.get("type") or "ExecutionError"),
            str(error.get("message") or f"node `{ctx.node_id}` failed"),
            suggestion=error.get("suggestion"),
            traceback=error.get("traceback"),
        )
    return reply.get("output")


def _reply(result: ProcessResult) -> dict[str, Any] | None:
    try:
        reply = marshal.loads(result.result or b"")
    except (EOFError, ValueError, TypeError):  # it died before it wrote it all
        return None
    return reply if isinstance(reply, dict) else None


def _died_message(node_id: str, result: ProcessResult) -> str:
    code = result.exit_code
    what = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    tail = result.stderr.rstrip("\r\n").splitlines()[-STDERR_TAIL_LINES:]
    message = f"node `{node_id}`: its Python process {what} without returning a result"
    return message + (":\n" + "\n".join(tail) if tail else "")
