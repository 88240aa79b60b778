"""`python`: `code` defining `main(**args)`, or `function: "package.module:attr"`.

The user's code runs in its own process (`flowrun_engine.pyrunner`, started with the
engine's interpreter), so a timeout or a stop ends it, and everything it started, like a
shell command; and what it writes to its file descriptors 1 and 2, by any means, is this
node's stdout/stderr logs. The job goes in on stdin and the result comes back on a pipe of
its own (`marshal` data: the same interpreter writes and reads it). The code is compiled
with the file name `<file.workflow.yml:node_id>` and padded so line numbers are those of the
workflow file when the node carries `code_line`.
"""

from __future__ import annotations

import marshal
import os
import sys
from typing import Any

from flowrun_engine.context import NodeContext, ProcessResult
from flowrun_engine.errors import NodeError
from flowrun_engine.expr import to_text

# the package's parent as the engine imported it (the run's scratch link, or the source tree)
_ENGINE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BOOT = (
    f"import sys;sys.path.insert(0,{_ENGINE_PARENT!r});"
    "from flowrun_engine.pyrunner import main;main(int(sys.argv[1]))"
)
STDERR_TAIL_LINES = 20


async def run(params: dict[str, Any], ctx: NodeContext) -> Any:
    job = {
        "code": params.get("code"),
        "function": params.get("function"),
        "args": params.get("args"),
        "node_id": ctx.node_id,
        "workflow_file": ctx.workflow_file,
        "code_line": ctx.code_line,
        "cwd": ctx.cwd,
    }
    env = {str(k): to_text(v) for k, v in (params.get("env") or {}).items()}
    result = await ctx.run_process(
        [sys.executable, "-u", "-c", _BOOT],
        env={**ctx.env, **env},  # `with.env`: the node's own process, so no other node sees it
        stdin=marshal.dumps(job),
        result_pipe=True,
    )
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
