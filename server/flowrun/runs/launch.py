"""What an engine child is started with: its `LaunchSpec`, argv, environment and scratch folder.

The child is `<python> -S -c WRAPPER` which moves the event pipe to fd 3 and runs the engine
module with runpy, so `python -m flowrun_engine` semantics hold without a preexec_fn (not
safe with threads, and slower). `-S`: the engine is stdlib-only, so it skips `site` and the
`.pth` files of site-packages (tens of ms in some environments); the user's code in `python`
nodes runs in the fork server, a normal interpreter start that loads them.

Environment of the child (nothing else from the parent process):
* the usual variables, when set: PATH HOME USER LOGNAME SHELL TERM LANG LANGUAGE TZ
  LC_* SYSTEMROOT COMSPEC PATHEXT WINDIR USERPROFILE APPDATA LOCALAPPDATA XDG_*
  SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE http(s)_proxy no_proxy VIRTUAL_ENV
  CONDA_PREFIX PYENV_VERSION;
* the workflow's `env`, then the secrets (process environment, then `.env`);
* PYTHONPATH = the run's scratch folder, which holds only a symlink to the engine package;
  PYTHONUNBUFFERED=1; TMPDIR and FLOWRUN_SCRATCH = a `tmp` folder inside it;
  FLOWRUN_EXECUTION_MODE, FLOWRUN_WORKFLOW_ID, FLOWRUN_EXECUTION_ID.

On the path of `flowrun run`'s early child: no asyncio, logging or dataclasses here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

PASSTHROUGH = frozenset(
    [
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "LANG",
        "LANGUAGE",
        "TZ",
        "SYSTEMROOT",
        "COMSPEC",
        "PATHEXT",
        "WINDIR",
        "USERPROFILE",
        "APPDATA",
        "LOCALAPPDATA",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "PYENV_VERSION",
        "FLOWRUN_NO_CACHE",  # `flowrun run --no-cache`: the engine neither reads nor writes it
    ]
)
PASSTHROUGH_PREFIXES = ("LC_", "XDG_")
SCRATCH_PREFIX = "flowrun-run-"

# Runs `python -m <module>` after moving the event pipe to fd 3 (not inherited further).
# On Linux it also asks for SIGTERM when the supervisor dies, even by SIGKILL: the engine
# then stops its nodes and their process trees. The parent pid guards the race where the
# supervisor died before prctl.
WRAPPER = (
    "import os,sys\n"
    "fd=int(sys.argv.pop(1));m=sys.argv.pop(1);pp=int(sys.argv.pop(1))\n"
    "if fd!=3:\n os.dup2(fd,3,inheritable=False);os.close(fd)\n"
    "else:\n os.set_inheritable(3,False)\n"
    "try:\n import ctypes;ctypes.CDLL(None).prctl(1,15)\n"
    "except Exception:\n pass\n"
    "if os.getppid()!=pp:\n sys.exit('flowrun: the supervisor is gone')\n"
    "import runpy\n"
    "runpy.run_module(m,run_name='__main__',alter_sys=True)\n"
)


def engine_argv(python: str, write_fd: int, module: str) -> list[str]:
    return [python, "-S", "-c", WRAPPER, str(write_fd), module, str(os.getpid())]


# Named tuples, not dataclasses: `dataclasses` loads `inspect`, which `flowrun run` would pay
# for before it spawns its child.


class EngineLocation(NamedTuple):
    """The package (or module file) put on the child's path, and the name to run."""

    path: Path
    module: str


def engine_location() -> EngineLocation:
    """Where `flowrun_engine` is installed, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("flowrun_engine")
    if spec is None or spec.origin is None:  # pragma: no cover - broken install
        raise RuntimeError("The flowrun_engine package is not installed next to flowrun.")
    return EngineLocation(Path(spec.origin).parent, "flowrun_engine")


class LaunchSpec(NamedTuple):
    """Everything an engine child is started with; two equal specs start the same child (an
    early child is used only for the run whose spec equals its own)."""

    python: str
    payload: dict[str, Any]  # the resolved workflow, written to the child's stdin
    execution_id: str
    workflow_id: str
    cwd: str
    env: Mapping[str, str] = {}  # workflow env
    secrets: Mapping[str, str] = {}
    mode: str = "test"
    timeout: float | None = None  # backstop; the engine enforces its own timeout first
    engine: EngineLocation | None = None  # None: the installed flowrun_engine

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._asdict().items() if k != "secrets")
        return f"LaunchSpec({fields})"


class RunOptions(TypedDict, total=False):
    """What a run of a workflow file is asked with besides the file (`RunService.execute`'s
    keywords, and `prespawn.early_child`'s, which must start the very same child)."""

    inputs: dict[str, Any] | None
    trigger: dict[str, Any] | None
    python: str | None  # the interpreter; None: the service's, else python3 on PATH
    timeout: float | None  # seconds; None: the workflow's own
    max_parallel: int | None  # nodes at once; None: the workflow's own
    break_before: list[str] | None  # pause before these nodes (issue 17)
    # the debugger's: `{node_id, condition, log_message}` each (`flowrun_engine.pausing`)
    breakpoints: list[dict[str, Any]] | None
    pause_on_failure: bool  # pause on a node's failure instead of failing the run
    step: bool  # run the nodes ready first, then pause before the next


def with_limits(resolved: dict[str, Any], options: RunOptions) -> dict[str, Any]:
    """`resolved`, its `options` overridden by the run's timeout and max_parallel, and its
    breakpoints (`pausing` in the engine)."""
    limits = resolved.setdefault("options", {})
    if (timeout := options.get("timeout")) is not None:
        limits["timeout"] = float(timeout)
    if (max_parallel := options.get("max_parallel")) is not None:
        limits["max_parallel"] = int(max_parallel)
    if options.get("break_before"):
        limits["break_before"] = list(options.get("break_before") or [])
    if options.get("breakpoints"):
        limits["breakpoints"] = [dict(point) for point in options.get("breakpoints") or []]
    if options.get("pause_on_failure"):
        limits["pause_on_failure"] = True
    if options.get("step"):
        limits["step"] = True
    return resolved


def spec_for_run(
    resolved: dict[str, Any],
    path: Path,
    python: str,
    execution_id: str,
    secrets: Mapping[str, str],
    mode: str,
    engine: EngineLocation | None = None,
) -> LaunchSpec:
    """The spec of a run of the resolved workflow from `path`."""
    options = resolved.get("options") or {}
    return LaunchSpec(
        python=python,
        payload=resolved,
        execution_id=execution_id,
        workflow_id=str(resolved["workflow"]["id"]),
        cwd=str(options.get("cwd") or path.parent),
        env={k: str(v) for k, v in (resolved["workflow"].get("env") or {}).items()},
        secrets=secrets,
        mode=mode,
        timeout=float(options.get("timeout") or 600.0),
        engine=engine,
    )


def new_execution_id() -> str:
    """`uuid.uuid4().hex`, without importing uuid (and platform) before the spawn."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def default_python() -> str | None:
    """FLOWRUN_PYTHON when set; None lets the run pick python3 on PATH (`pyenv`)."""
    return os.environ.get("FLOWRUN_PYTHON") or None


BREAKPOINTS_FILE = "breakpoints.json"  # in the scratch folder, not its `tmp` the nodes use


def passed_through(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What an engine child gets of our environment (`environ`, default ours): PASSTHROUGH."""
    source = os.environ if environ is None else environ
    return {
        key: value
        for key, value in source.items()
        if key in PASSTHROUGH or key.startswith(PASSTHROUGH_PREFIXES)
    }


def child_environment(
    spec: LaunchSpec, scratch: Path, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = passed_through(environ)
    env.update(spec.env)
    env.update(spec.secrets)
    tmp = str(scratch / "tmp")
    env.update(
        {
            "PYTHONPATH": str(scratch),
            "PYTHONUNBUFFERED": "1",
            "TMPDIR": tmp,
            "FLOWRUN_SCRATCH": tmp,
            # the editor's breakpoints changed mid-run (SIGUSR2; `flowrun_engine.pausing`)
            "FLOWRUN_BREAKPOINTS": str(scratch / BREAKPOINTS_FILE),
            "FLOWRUN_EXECUTION_MODE": spec.mode,
            "FLOWRUN_WORKFLOW_ID": spec.workflow_id,
            "FLOWRUN_EXECUTION_ID": spec.execution_id,
        }
    )
    return env


def make_scratch(engine: EngineLocation) -> Path:
    """A 0700 folder with the engine symlinked in (the child's only PYTHONPATH entry).

    Its name holds the supervisor's pid, so that a later supervisor can remove the folders
    of one that was killed (SIGKILL leaves no chance to clean up).
    """
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    os.chmod(scratch, 0o700)
    (scratch / "tmp").mkdir(mode=0o700)
    (scratch / engine.path.name).symlink_to(engine.path, engine.path.is_dir())
    return scratch
