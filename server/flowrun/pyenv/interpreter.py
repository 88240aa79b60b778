"""Check the interpreter a run uses: Python >= 3.11, its real executable, its packages.

Checking costs a subprocess, so its answers are cached (`known.py`): a cold `flowrun run`
spawns nothing but the engine when the workflow requires no packages.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass, field

from flowrun.pyenv.known import cache_key, cached, locate, remember
from flowrun.pyenv.probe import PROBE_SOURCE

MIN_VERSION = (3, 11)
PROBE_TIMEOUT = 30.0


@dataclass
class InterpreterInfo:
    path: str
    version: str | None
    ok: bool
    problems: list[str] = field(default_factory=list)
    executable: str | None = None  # the interpreter itself (a pyenv shim resolved), to spawn
    missing: list[str] = field(default_factory=list)  # requirements not importable
    versions: dict[str, str] = field(default_factory=dict)  # requirement → installed version


def version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split(".")[:3]:
        digits = re.match(r"\d*", part)
        parts.append(int(digits.group() or 0) if digits else 0)
    return tuple(parts)


def interpreter_environment() -> dict[str, str]:
    """Our environment without what would make the user's interpreter load our packages."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


async def start_python(
    argv: list[str], env: dict[str, str], *, merge_stderr: bool = False
) -> asyncio.subprocess.Process:
    """`argv` with no stdin and its stdout piped; its stderr piped too, or merged into stdout."""
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
        env=env,
    )


def _judge(
    path: str,
    executable: str,
    version: str,
    missing: list[str],
    versions: dict[str, str] | None = None,
) -> InterpreterInfo:
    problems: list[str] = []
    if version_tuple(version)[:2] < MIN_VERSION:
        wanted = ".".join(map(str, MIN_VERSION))
        problems.append(
            f"{path} is Python {version}; Flowrun runs workflows on Python {wanted} or newer."
        )
    return InterpreterInfo(
        path=path,
        version=version,
        ok=not problems,
        problems=problems,
        executable=executable,
        missing=missing,
        versions=versions or {},
    )


async def probe_interpreter(
    python: str | None, checks: list[tuple[str, str, str]] | None = None
) -> InterpreterInfo:
    """Run the probe in the interpreter: version, real executable, missing modules.

    `checks` is `[(requirement, distribution, module), ...]`; the requirements not found
    are listed in `InterpreterInfo.missing`, the installed versions of the others in
    `InterpreterInfo.versions`. Always spawns one subprocess.
    """
    located = locate(python)
    if located.path is None:
        return InterpreterInfo(
            path=python or "python3", version=None, ok=False, problems=[str(located.problem)]
        )
    path = located.path
    argv = [path, "-c", PROBE_SOURCE, json.dumps(checks or [])]
    env = interpreter_environment()
    try:
        process = await start_python(argv, env)
    except OSError as exc:
        return InterpreterInfo(
            path=path, version=None, ok=False, problems=[f"Could not run {path}: {exc}."]
        )
    try:
        out, err = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        return InterpreterInfo(
            path=path,
            version=None,
            ok=False,
            problems=[f"{path} did not answer within {PROBE_TIMEOUT:g} s."],
        )
    try:
        data = json.loads(out.decode("utf-8", "replace"))
        version = str(data["version"])
        executable = str(data.get("executable") or path)
        missing = [str(item) for item in data.get("missing", [])]
        versions = {str(k): str(v) for k, v in (data.get("versions") or {}).items()}
    except (ValueError, KeyError, TypeError):
        tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        detail = " ".join(tail) or f"exit code {process.returncode}"
        return InterpreterInfo(
            path=path,
            version=None,
            ok=False,
            problems=[f"{path} did not answer as a Python interpreter ({detail})."],
        )
    info = _judge(path, executable, version, missing, versions)
    if info.ok:
        remember(cache_key(path), executable, version)
    return info


async def inspect_interpreter(python: str | None) -> InterpreterInfo:
    """The interpreter `python` names (None: python3 on PATH), checked to be >= 3.11.

    Cached per interpreter file, so this usually spawns nothing.
    """
    located = locate(python)
    if located.path is not None:
        entry = cached(cache_key(located.path))
        if entry is not None:
            return _judge(located.path, str(entry["executable"]), str(entry["version"]), [])
    return await probe_interpreter(python)
