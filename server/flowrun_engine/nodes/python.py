"""`python`: `code` defining `main(**args)`, or `function: "package.module:attr"`.

The user's code runs in a daemon worker thread (a timeout or a stop stops waiting for it;
a daemon thread does not keep the engine alive). Its prints become this node's logs. The
code is compiled with the file name `<file.workflow.yml:node_id>` and padded so line numbers
are those of the workflow file when the resolved node carries `code_line`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import linecache
import math
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from flowrun_engine import stdio
from flowrun_engine.context import NodeContext
from flowrun_engine.errors import NodeError
from flowrun_engine.expr import to_text

_ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SERIALISABLE = "return dicts, lists, strings, numbers, booleans or None"


async def run(params: dict[str, Any], ctx: NodeContext) -> Any:
    args = params.get("args") or {}
    if not isinstance(args, dict):
        raise NodeError(
            "ExecutionError",
            f"node `{ctx.node_id}`: `args` must be a mapping of names to values",
            suggestion="write `args: {name: value}`; main() receives them as keyword arguments",
        )
    env = {str(k): to_text(v) for k, v in (params.get("env") or {}).items()}
    ctx.env = {**ctx.env, **env}
    result = await _in_thread(lambda: _with_environ(env, lambda: _call(params, args, ctx)), ctx)
    _check_serialisable(result, ctx.node_id)
    return result


# `with.env` of python nodes: their code runs in this process and reads os.environ, so the
# variables are set there while it runs; nodes with `env` take turns (the lock), so two of
# them never see each other's values.
_ENVIRON_LOCK = threading.Lock()


def _with_environ(env: dict[str, str], fn: Callable[[], Any]) -> Any:
    if not env:
        return fn()
    with _ENVIRON_LOCK:
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            return fn()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


async def _in_thread(fn: Callable[[], Any], ctx: NodeContext) -> Any:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def deliver(ok: bool, value: Any) -> None:
        if not future.done():
            future.set_result(value) if ok else future.set_exception(value)

    def work() -> None:
        with stdio.node_output(ctx):
            try:
                outcome = (True, fn())
            except BaseException as exc:  # delivered to the awaiting coroutine
                outcome = (False, exc)
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(deliver, *outcome)

    threading.Thread(target=work, name=f"flowrun-node-{ctx.node_id}", daemon=True).start()
    return await future


def _call(params: dict[str, Any], args: dict[str, Any], ctx: NodeContext) -> Any:
    target, filename = _load(params, ctx)
    try:
        result = target(**args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except (Exception, SystemExit) as exc:
        raise _user_error(exc, ctx, filename) from None
    return result


def _load(params: dict[str, Any], ctx: NodeContext) -> tuple[Callable[..., Any], str | None]:
    if params.get("function"):
        return _import_function(str(params["function"]), ctx), None
    code = params.get("code")
    if not isinstance(code, str) or not code.strip():
        raise NodeError(
            "ExecutionError",
            f"node `{ctx.node_id}` has neither `code` nor `function`",
            suggestion="add `code:` with a `def main(**args):`, or `function: package.module:name`",
        )
    return _compile_main(code, ctx)


def code_filename(ctx: NodeContext) -> str:
    base = os.path.basename(ctx.workflow_file) if ctx.workflow_file else "workflow"
    return f"<{base}:{ctx.node_id}>"


def _compile_main(code: str, ctx: NodeContext) -> tuple[Callable[..., Any], str]:
    filename = code_filename(ctx)
    source = "\n" * max(0, (ctx.code_line or 1) - 1) + code
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    namespace: dict[str, Any] = {"__name__": f"flowrun_node_{ctx.node_id}"}
    try:
        exec(compile(source, filename, "exec"), namespace)
    except SyntaxError as exc:
        raise NodeError(
            "ExecutionError",
            f"node `{ctx.node_id}`: syntax error in its code at line {exc.lineno}: {exc.msg}",
            traceback="".join(traceback.format_exception_only(exc)),
            suggestion=f"fix the code of node `{ctx.node_id}` at line {exc.lineno}",
        ) from None
    except (Exception, SystemExit) as exc:
        raise _user_error(exc, ctx, filename) from None
    main = namespace.get("main")
    if not callable(main):
        raise NodeError(
            "ExecutionError",
            f"node `{ctx.node_id}`: its code defines no main() function",
            suggestion="define `def main(**args):` and return the node's output from it",
        )
    return main, filename


def _import_function(spec: str, ctx: NodeContext) -> Callable[..., Any]:
    module_name, _, attr = spec.partition(":")
    if ctx.cwd not in sys.path:
        sys.path.insert(0, ctx.cwd)
    try:
        target: Any = importlib.import_module(module_name)
        for part in (attr or "main").split("."):
            target = getattr(target, part)
    except ImportError as exc:
        raise NodeError(
            "ExecutionError",
            f"node `{ctx.node_id}` cannot import `{module_name}`: {exc}",
            traceback=_user_traceback(exc),
            suggestion=f"put the module in the workspace folder ({ctx.cwd}) or install it in "
            f"{sys.executable} (add it to `requires`)",
        ) from None
    except AttributeError:
        raise NodeError(
            "ExecutionError",
            f"node `{ctx.node_id}`: module `{module_name}` has no `{attr}`",
            suggestion="write `function: package.module:function_name`",
        ) from None
    except (Exception, SystemExit) as exc:
        raise _user_error(exc, ctx, None) from None
    if not callable(target):
        raise NodeError("ExecutionError", f"node `{ctx.node_id}`: `{spec}` is not callable")
    return target  # type: ignore[no-any-return]


def _user_error(exc: BaseException, ctx: NodeContext, filename: str | None) -> NodeError:
    message = f"node `{ctx.node_id}` raised {type(exc).__name__}: {exc}"
    return NodeError(
        "ExecutionError",
        message + _where(exc, ctx, filename),
        traceback=_user_traceback(exc),
        suggestion="fix the error in the node's code (see the traceback), or pin the node's "
        "output to test the rest of the workflow",
    )


def _where(exc: BaseException, ctx: NodeContext, filename: str | None) -> str:
    """` (line 12 of x.workflow.yml)` for inline code, ` (tasks.py, line 6)` for a function."""
    frames = traceback.extract_tb(exc.__traceback__)
    if filename is not None:
        lines = [f.lineno for f in frames if f.filename == filename]
        file = os.path.basename(ctx.workflow_file or "the workflow")
        return f" (line {lines[-1]} of {file})" if lines else ""
    user = [f for f in frames if not f.filename.startswith(_ENGINE_DIR)]
    return f" ({os.path.basename(user[-1].filename)}, line {user[-1].lineno})" if user else ""


def _user_traceback(exc: BaseException) -> str:
    """The traceback without the engine's own frames."""
    tb = traceback.TracebackException.from_exception(exc)
    _trim(tb, set())
    return "".join(tb.format())


def _trim(tb: traceback.TracebackException, seen: set[int]) -> None:
    if id(tb) in seen:
        return
    seen.add(id(tb))
    kept = [f for f in tb.stack if not f.filename.startswith(_ENGINE_DIR)]
    tb.stack = traceback.StackSummary.from_list(kept)
    for other in (tb.__cause__, tb.__context__):
        if other is not None:
            _trim(other, seen)


def _check_serialisable(value: Any, node_id: str) -> None:
    bad = _unserialisable(value)
    if isinstance(bad, float):
        raise NodeError(
            "ExecutionError",
            f"node `{node_id}` returned {bad!r}, a number JSON cannot carry",
            suggestion="return a finite number, or None or text for 'no value'",
        )
    if bad is not None:
        raise NodeError(
            "ExecutionError",
            f"node `{node_id}` returned a {type(bad)!r}, which is not JSON-serialisable; "
            + _SERIALISABLE,
            suggestion="convert it first, e.g. list(a_set), str(a_date), a_dataclass.__dict__",
        )


def _unserialisable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return value
    if value is None or isinstance(value, str | int | float | bool):
        return None
    if isinstance(value, list | tuple):
        return next((b for b in map(_unserialisable, value) if b is not None), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                return key
            bad = _unserialisable(item)
            if bad is not None:
                return bad
        return None
    try:
        json.dumps(value, allow_nan=False)  # Infinity/NaN are not JSON
    except (TypeError, ValueError):
        return value
    return None  # pragma: no cover - json only accepts the types above
