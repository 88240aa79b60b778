"""Which `requires` packages an interpreter lacks, and installing them with pip."""

from __future__ import annotations

import asyncio
import re
import shlex

from flowrun.pyenv.interpreter import interpreter_environment, probe_interpreter

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


async def missing_packages(python: str, requires: list[str]) -> list[str]:
    """The requirements of `requires` that `python` cannot import (one subprocess)."""
    if not requires:
        return []
    info = await probe_interpreter(python, probe_checks(requires))
    return info.missing


def pip_install_command(python: str, packages: list[str]) -> list[str]:
    return [python, "-m", "pip", "install", *packages]


def display_command(argv: list[str]) -> str:
    return shlex.join(argv)


async def install_packages(python: str, packages: list[str]) -> tuple[bool, str]:
    """`python -m pip install packages`; returns (ok, pip's combined output)."""
    if not packages:
        return True, "Nothing to install."
    argv = pip_install_command(python, packages)
    env = interpreter_environment()
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
    except OSError as exc:
        return False, f"Could not run {display_command(argv)}: {exc}"
    try:
        out, _ = await asyncio.wait_for(process.communicate(), INSTALL_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        return False, f"{display_command(argv)} did not finish within {INSTALL_TIMEOUT:g} s."
    text = out.decode("utf-8", "replace")
    if process.returncode != 0:
        text += f"\n{display_command(argv)} exited with code {process.returncode}."
    return process.returncode == 0, text
