"""Which `requires` packages an interpreter lacks (or has in a version the requirement's
specifier excludes), and installing them with pip."""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from flowrun.pyenv.interpreter import interpreter_environment, probe_interpreter, start_python

_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
INSTALL_TIMEOUT = 900.0


def requirement_name(requirement: str) -> str:
    """The distribution name of a pip requirement string (`httpx[http2]>=0.27` → `httpx`)."""
    match = _NAME.match(requirement)
    return match.group(1) if match else requirement.strip()


def module_name(distribution: str) -> str:
    """The import name a distribution most likely has (`python-dateutil` → `python_dateutil`).

    Distributions whose import name differs (PyYAML → yaml) are still found: the probe
    falls back to the installed distribution's metadata.
    """
    return re.sub(r"[-.]+", "_", distribution).lower()


def probe_checks(requires: list[str]) -> list[tuple[str, str, str]]:
    checks = []
    for requirement in requires:
        name = requirement_name(requirement)
        checks.append((requirement, name, module_name(name)))
    return checks


class Unmet(NamedTuple):
    requirement: str
    installed: str | None  # the version found, when one was found but does not match


async def unmet_requirements(python: str, requires: list[str]) -> list[Unmet]:
    """The requirements of `requires` that `python` cannot import, or whose installed
    version the requirement's specifier excludes (`six>=99` with six 1.17); one subprocess."""
    if not requires:
        return []
    info = await probe_interpreter(python, probe_checks(requires))
    unmet = []
    for requirement in requires:
        installed = info.versions.get(requirement)
        if requirement in info.missing:
            unmet.append(Unmet(requirement, None))
        elif installed is not None and not satisfies(requirement, installed):
            unmet.append(Unmet(requirement, installed))
    return unmet


async def missing_packages(python: str, requires: list[str]) -> list[str]:
    """The requirements `python` does not meet (see `unmet_requirements`), in order."""
    return [unmet.requirement for unmet in await unmet_requirements(python, requires)]


def satisfies(requirement: str, version: str) -> bool:
    """Whether `version` is in the requirement's specifier (pre-releases count); a
    requirement or a version that `packaging` cannot parse is not held against the run."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    try:
        specifier = Requirement(requirement).specifier
        return not specifier or specifier.contains(Version(version), prereleases=True)
    except (InvalidRequirement, InvalidVersion):
        return True


def describe_unmet(unmet: list[Unmet]) -> str:
    """`six>=99 (1.17.0 installed), httpx` for messages."""
    return ", ".join(
        u.requirement if u.installed is None else f"{u.requirement} ({u.installed} installed)"
        for u in unmet
    )


def pip_install_command(python: str, packages: list[str]) -> list[str]:
    return [python, "-m", "pip", "install", *packages]


def display_command(argv: list[str]) -> str:
    return shlex.join(argv)


OutputLine = Callable[[str], Awaitable[None] | None]


async def install_packages(
    python: str, packages: list[str], on_line: OutputLine | None = None
) -> tuple[bool, str]:
    """`python -m pip install packages`; returns (ok, pip's combined output). `on_line`
    gets each line of pip's output as it comes (the CLI shows pip's progress)."""
    if not packages:
        return True, "Nothing to install."
    argv = pip_install_command(python, packages)
    env = interpreter_environment()
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    try:
        process = await start_python(argv, env, merge_stderr=True)
    except OSError as exc:
        return False, f"Could not run {display_command(argv)}: {exc}"
    lines: list[str] = []
    try:
        await asyncio.wait_for(_read_lines(process, lines, on_line), INSTALL_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        return False, f"{display_command(argv)} did not finish within {INSTALL_TIMEOUT:g} s."
    text = "".join(lines)
    if process.returncode != 0:
        text += f"\n{display_command(argv)} exited with code {process.returncode}."
    return process.returncode == 0, text


async def _read_lines(
    process: asyncio.subprocess.Process, lines: list[str], on_line: OutputLine | None
) -> None:
    assert process.stdout is not None
    async for raw in process.stdout:
        line = raw.decode("utf-8", "replace")
        lines.append(line)
        if on_line is not None:
            result = on_line(line.rstrip("\n"))
            if result is not None:
                await result
    await process.wait()
