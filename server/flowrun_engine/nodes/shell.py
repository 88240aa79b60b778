"""`shell`: run a command (`/bin/sh -c` for a string, argv for a list).

Output `{exit_code, stdout, stderr}` with trailing newlines stripped, plus `json` for
`parse: json` and `lines` (stdout split into lines) for `parse: lines`.
"""

from __future__ import annotations

import json
import signal
from typing import Any

from flowrun_engine import jsonfinite
from flowrun_engine.context import NodeContext, ProcessResult
from flowrun_engine.errors import NodeError, execution_error
from flowrun_engine.expr import to_text

STDERR_TAIL_LINES = 20


async def run(params: dict[str, Any], ctx: NodeContext) -> Any:
    argv = _argv(params.get("run"), ctx.node_id)
    cwd = ctx.working_dir(params.get("cwd"))
    env = {**ctx.env, **{str(k): to_text(v) for k, v in (params.get("env") or {}).items()}}
    stdin = params.get("stdin")
    try:
        result = await ctx.run_process(
            argv, cwd=cwd, env=env, stdin=None if stdin is None else to_text(stdin).encode()
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise _not_found(argv[0], ctx.node_id, exc) from None
    output = _output(result, params.get("parse") or "text", ctx.node_id)
    if result.exit_code != 0:
        raise NodeError(
            "ExecutionError",
            _exit_message(ctx.node_id, result),
            suggestion="look at the stderr above; run the command in a terminal to reproduce it",
            output=output,
        )
    return output


def _argv(run_value: Any, node_id: str) -> list[str]:
    if isinstance(run_value, str) and run_value.strip():
        return ["/bin/sh", "-c", run_value]
    if isinstance(run_value, list) and run_value:
        return [to_text(part) for part in run_value]
    raise execution_error(
        f"node `{node_id}` has nothing to run: `run` is {json.dumps(run_value)}",
        "set `run` to a command string or a list of arguments",
    )


def _not_found(program: str, node_id: str, exc: OSError) -> NodeError:
    why = "is not executable" if isinstance(exc, PermissionError) else "was not found"
    return NodeError(
        "PythonNotFound",
        f"node `{node_id}`: the program `{program}` {why}",
        suggestion=f"install `{program}` or put it on PATH, or give its full path in `run`",
    )


def _output(result: ProcessResult, parse: str, node_id: str) -> dict[str, Any]:
    stdout = result.stdout.rstrip("\r\n")
    output: dict[str, Any] = {
        "exit_code": result.exit_code,
        "stdout": stdout,
        "stderr": result.stderr.rstrip("\r\n"),
    }
    if parse == "lines":
        output["lines"] = stdout.splitlines()
    elif parse == "json" and result.exit_code == 0:
        try:
            output["json"] = jsonfinite.loads(stdout)
        except ValueError as exc:
            raise NodeError(
                "ExecutionError",
                f"node `{node_id}`: stdout is not JSON ({exc}); it starts with {stdout[:200]!r}",
                suggestion="make the command print only JSON, or use `parse: text`",
                output=output,
            ) from None
    return output


def _exit_message(node_id: str, result: ProcessResult) -> str:
    code = result.exit_code
    what = f"exited with code {code}"
    if code < 0:
        what = f"was killed by signal {_signal_name(-code)}"
    tail = result.stderr.rstrip("\r\n").splitlines()[-STDERR_TAIL_LINES:]
    message = f"node `{node_id}`: the command {what}"
    return message + (":\n" + "\n".join(tail) if tail else " (no stderr)")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
