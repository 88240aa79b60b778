"""The process a `python` node runs in: forked by the run's fork server (`zygote.py`).

Reads one job on stdin (`code` or `function`, `args`, `node_id`, `workflow_file`,
`code_line`, `cwd`, `env`), takes the node's environment and folder, then gives the user's
code an empty stdin, calls `main(**args)` (or the function) and writes the reply to the
result fd: `{"ok": True, "output": ...}` or `{"ok": False, "error": {type, message,
traceback?, suggestion?}}`. Output needs no redirection: the node's logs are this process's
fds 1 and 2, so `print`, `os.write(1, ...)`, `os.system` and subprocesses all land there.

Every node process inherits what the fork server imported, so this imports almost nothing
(`marshal` and `math` are built in): the job and the reply are `marshal` data (built in;
the engine runs the same interpreter), the output is checked and turned into plain JSON
types here (as `json` would: tuples become lists, keys strings), and `typing`, `json`,
`re`, `traceback` and `linecache` are only imported when something fails.
"""

import marshal
import math
import os
import sys

from flowrun_engine.errors import NodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))
_SERIALISABLE = "return dicts, lists, strings, numbers, booleans or None"


class Job:
    def __init__(self, data: "dict[str, Any]") -> None:
        self.code: Any = data.get("code")
        self.function: Any = data.get("function")
        self.args: Any = data.get("args") or {}
        self.node_id = str(data.get("node_id") or "node")
        self.workflow_file: str | None = data.get("workflow_file")
        self.code_line: int | None = data.get("code_line")
        self.cwd = str(data.get("cwd") or os.getcwd())
        self.env: dict[str, str] | None = data.get("env")
        self.source: tuple[str, str] | None = None  # (file name, padded code) of `code`


def _register_source(job: Job) -> None:
    """Let tracebacks show the lines of the node's code."""
    import linecache

    if job.source is not None:
        filename, source = job.source
        lines = source.splitlines(keepends=True)
        linecache.cache[filename] = (len(source), None, lines, filename)


def main(result_fd: int) -> None:
    os.set_inheritable(result_fd, False)  # not for the user's subprocesses
    with open(0, "rb", closefd=False) as stdin:
        job = Job(marshal.loads(stdin.read()))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    _streams()
    _enter(job)
    try:
        reply: dict[str, Any] = {"ok": True, "output": plain(run(job), job.node_id)}
    except NodeError as exc:
        reply = {"ok": False, "error": exc.to_dict()}
    sys.stdout.flush()
    sys.stderr.flush()
    with open(result_fd, "wb", closefd=True) as out:
        out.write(marshal.dumps(reply))


def _streams() -> None:
    """`sys.stdin`, `sys.stdout` and `sys.stderr` over this process's fds 0, 1 and 2 (the
    fork server's own were over other files), unbuffered, in UTF-8. (`sys.__stdout__` stays
    the server's, which writes to fd 1 too.)"""
    import io

    stdin = io.BufferedReader(io.FileIO(0, "r", closefd=False))
    sys.stdin = io.TextIOWrapper(stdin, "utf-8")
    for fd, name in ((1, "stdout"), (2, "stderr")):
        raw = io.FileIO(fd, "w", closefd=False)
        text = io.TextIOWrapper(raw, "utf-8", "backslashreplace", write_through=True)
        setattr(sys, name, text)


def _enter(job: Job) -> None:
    """Take the node's environment (its `PYTHONPATH` too, as an interpreter start would) and
    folder."""
    if job.env is not None:
        os.environ.clear()
        os.environ.update(job.env)
        extra = [p for p in job.env.get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[1:1] = [p for p in extra if p not in sys.path]
    os.chdir(job.cwd)


def run(job: Job) -> "Any":
    if not isinstance(job.args, dict):
        raise NodeError(
            "ExecutionError",
            f"node `{job.node_id}`: `args` must be a mapping of names to values",
            suggestion="write `args: {name: value}`; main() receives them as keyword arguments",
        )
    target, filename = _load(job)
    try:
        result = target(**job.args)
        if type(result).__name__ == "coroutine":
            import asyncio

            result = asyncio.run(result)
    except (Exception, SystemExit) as exc:
        raise _user_error(exc, job, filename) from None
    return result


def _load(job: Job) -> "tuple[Callable[..., Any], str | None]":
    if job.function:
        return _import_function(str(job.function), job), None
    if not isinstance(job.code, str) or not job.code.strip():
        raise NodeError(
            "ExecutionError",
            f"node `{job.node_id}` has neither `code` nor `function`",
            suggestion="add `code:` with a `def main(**args):`, or `function: package.module:name`",
        )
    return _compile_main(job.code, job)


def code_filename(job: Job) -> str:
    base = os.path.basename(job.workflow_file) if job.workflow_file else "workflow"
    return f"<{base}:{job.node_id}>"


def _compile_main(code: str, job: Job) -> "tuple[Callable[..., Any], str]":
    filename = code_filename(job)
    source = "\n" * max(0, (job.code_line or 1) - 1) + code
    job.source = (filename, source)
    if "linecache" in sys.modules:  # else registered when a traceback is formatted
        _register_source(job)
    namespace: dict[str, Any] = {"__name__": f"flowrun_node_{job.node_id}"}
    try:
        exec(compile(source, filename, "exec"), namespace)
    except SyntaxError as exc:
        import traceback

        raise NodeError(
            "ExecutionError",
            f"node `{job.node_id}`: syntax error in its code at line {exc.lineno}: {exc.msg}",
            traceback="".join(traceback.format_exception_only(exc)),
            suggestion=f"fix the code of node `{job.node_id}` at line {exc.lineno}",
        ) from None
    except (Exception, SystemExit) as exc:
        raise _user_error(exc, job, filename) from None
    main = namespace.get("main")
    if not callable(main):
        raise NodeError(
            "ExecutionError",
            f"node `{job.node_id}`: its code defines no main() function",
            suggestion="define `def main(**args):` and return the node's output from it",
        )
    return main, filename


def _import_function(spec: str, job: Job) -> "Callable[..., Any]":
    import importlib

    module_name, _, attr = spec.partition(":")
    if job.cwd not in sys.path:
        sys.path.insert(0, job.cwd)
    try:
        target: Any = importlib.import_module(module_name)
        for part in (attr or "main").split("."):
            target = getattr(target, part)
    except ImportError as exc:
        raise NodeError(
            "ExecutionError",
            f"node `{job.node_id}` cannot import `{module_name}`: {exc}",
            traceback=_user_traceback(exc),
            suggestion=f"put the module in the workspace folder ({job.cwd}) or install it in "
            f"{sys.executable} (add it to `requires`)",
        ) from None
    except AttributeError:
        raise NodeError(
            "ExecutionError",
            f"node `{job.node_id}`: module `{module_name}` has no `{attr}`",
            suggestion="write `function: package.module:function_name`",
        ) from None
    except (Exception, SystemExit) as exc:
        raise _user_error(exc, job, None) from None
    if not callable(target):
        raise NodeError("ExecutionError", f"node `{job.node_id}`: `{spec}` is not callable")
    return target  # type: ignore[no-any-return]


def _user_error(exc: BaseException, job: Job, filename: str | None) -> NodeError:
    _register_source(job)
    message = f"node `{job.node_id}` raised {type(exc).__name__}: {exc}"
    return NodeError(
        "ExecutionError",
        message + _where(exc, job, filename),
        traceback=_user_traceback(exc),
        suggestion="fix the error in the node's code (see the traceback), or pin the node's "
        "output to test the rest of the workflow",
    )


def _where(exc: BaseException, job: Job, filename: str | None) -> str:
    """` (line 12 of x.workflow.yml)` for inline code, ` (tasks.py, line 6)` for a function."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    if filename is not None:
        lines = [f.lineno for f in frames if f.filename == filename]
        file = os.path.basename(job.workflow_file or "the workflow")
        return f" (line {lines[-1]} of {file})" if lines else ""
    user = [f for f in frames if not _is_ours(f.filename)]
    return f" ({os.path.basename(user[-1].filename)}, line {user[-1].lineno})" if user else ""


def _is_ours(filename: str) -> bool:
    return filename.startswith(_ENGINE_DIR)


def _user_traceback(exc: BaseException) -> str:
    """The traceback without the engine's own frames."""
    import traceback

    tb = traceback.TracebackException.from_exception(exc)
    _trim(tb, set())
    return "".join(tb.format())


def _trim(tb: "Any", seen: set[int]) -> None:
    import traceback

    if id(tb) in seen:
        return
    seen.add(id(tb))
    kept = [f for f in tb.stack if not _is_ours(f.filename)]
    tb.stack = traceback.StackSummary.from_list(kept)
    for other in (tb.__cause__, tb.__context__):
        if other is not None:
            _trim(other, seen)


def plain(value: "Any", node_id: str) -> "Any":
    """`value` as `json.loads(json.dumps(value))` would give it; fails on what JSON refuses
    (Infinity and NaN too: JSON has no such numbers)."""
    try:
        return _plain(value)
    except _NotJson as exc:
        bad = exc.args[0]
    if isinstance(bad, float):
        raise NodeError(
            "ExecutionError",
            f"node `{node_id}` returned {bad!r}, a number JSON cannot carry",
            suggestion="return a finite number, or None or text for 'no value'",
        )
    raise NodeError(
        "ExecutionError",
        f"node `{node_id}` returned a {type(bad)!r}, which is not JSON-serialisable; "
        + _SERIALISABLE,
        suggestion="convert it first, e.g. list(a_set), str(a_date), a_dataclass.__dict__",
    )


class _NotJson(Exception):
    pass


def _plain(value: "Any") -> "Any":
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NotJson(float(value))
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {_key(key): _plain(item) for key, item in value.items()}
    raise _NotJson(value)


def _key(key: "Any") -> str:
    if isinstance(key, str):
        return str(key)
    if key is None or key is True or key is False:
        return {None: "null", True: "true", False: "false"}[key]
    if isinstance(key, int):
        return str(int(key))
    if isinstance(key, float):
        return float.__repr__(float(key))
    raise _NotJson(key)
