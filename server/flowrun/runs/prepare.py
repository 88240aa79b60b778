"""Before a run: validate and resolve the file (or take it from the cache), check the
interpreter and the packages of `requires`.

The resolved-JSON cache stamps this module's code (it calls `resolve()`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from flowrun.runs import resolved_cache
from flowrun.runs.errors import (
    DependencyError,
    FlowrunError,
    InvalidInput,
    InvalidTrigger,
    PythonNotFound,
    WorkflowInvalid,
)

if TYPE_CHECKING:
    from flowrun import pyenv
    from flowrun.pyenv.packages import OutputLine

PYTHON_SUGGESTION = (
    "Choose a Python 3.11+ interpreter: `flowrun run --python PATH`, or in VS Code "
    "'Flowrun: Select Python Interpreter' (the `flowrun.python` setting)."
)


class Prepared(NamedTuple):
    resolved: dict[str, Any]
    info: pyenv.InterpreterInfo
    known_valid: bool  # from the cache: nothing can refuse the run any more


async def prepare(
    path: Path,
    text: str | None,
    python: str | None,
    install_missing: bool,
    inputs: dict[str, Any] | None,
    trigger: dict[str, Any] | None,
    on_install: OutputLine | None = None,
) -> Prepared:
    """The resolved workflow and the interpreter of a run, or the typed error refusing it.
    `on_install` gets the lines of an `install_missing` pip install as they come."""
    import asyncio

    from flowrun import pyenv

    source = text if text is not None else resolved_cache.read_text(path)
    key = resolved_cache.cache_key(path, source, inputs, trigger) if source is not None else None
    refusal = _refusal(key)
    if refusal is not None:  # `validate_early` found this exact text invalid a moment ago
        raise refusal
    entry = resolved_cache.load_entry(key)
    if entry is not None:  # this exact file was valid: skip loading the validator
        info = await pyenv.inspect_interpreter(python)
        resolved, requires = entry["resolved"], list(entry["requires"])
    else:
        # validation and the interpreter check run side by side (the check may spawn)
        checked, info = await asyncio.gather(
            asyncio.to_thread(_validate, path, source), pyenv.inspect_interpreter(python)
        )
        new = _entry_of(checked, path, inputs, trigger, key)
        resolved, requires = new["resolved"], new["requires"]
    if not info.ok:
        raise PythonNotFound(" ".join(info.problems), suggestion=PYTHON_SUGGESTION)
    if requires:
        await check_requires(info, requires, install_missing, on_install)
    return Prepared(resolved, info, entry is not None)


async def check_requires(
    info: pyenv.InterpreterInfo,
    requires: list[str],
    install_missing: bool,
    on_install: OutputLine | None = None,
) -> None:
    """`DependencyError` unless the interpreter imports every package in a version the
    requirement allows (after installing the others, with `install_missing`)."""
    from flowrun import pyenv

    python = info.executable or info.path  # the interpreter itself, not a shim
    unmet = await pyenv.unmet_requirements(python, requires)
    if unmet and install_missing:
        await _install(python, unmet, on_install)
        unmet = await pyenv.unmet_requirements(python, requires)
    if unmet:
        missing = [u.requirement for u in unmet]
        command = pyenv.pip_install_command(python, missing)
        raise DependencyError(
            missing,
            command,
            f"{python} lacks {pyenv.describe_unmet(unmet)} (listed in `requires`). "
            f"Install with `{pyenv.display_command(command)}` or run with --install-missing.",
        )


async def _install(python: str, unmet: list[pyenv.Unmet], on_line: OutputLine | None) -> None:
    from flowrun import pyenv

    missing = [u.requirement for u in unmet]
    await _say(on_line, f"Installing {pyenv.describe_unmet(unmet)} into {python} …")
    ok, output = await pyenv.install_packages(python, missing, on_line)
    if not ok:
        tail = " ".join(output.strip().splitlines()[-3:])
        raise DependencyError(
            missing,
            pyenv.pip_install_command(python, missing),
            f"Installing {', '.join(missing)} into {python} failed: {tail}",
        )
    await _say(on_line, f"Installed {', '.join(missing)}.")


async def _say(on_line: OutputLine | None, line: str) -> None:
    if on_line is not None:
        result = on_line(line)
        if result is not None:
            await result


_refused: tuple[str, FlowrunError] | None = None  # `validate_early`'s, for the next prepare


def _refusal(key: str | None) -> FlowrunError | None:
    global _refused
    if _refused is None or _refused[0] != key:
        return None
    refusal, _refused = _refused[1], None
    return refusal


def validate_early(
    path: Path, text: str, inputs: dict[str, Any] | None, trigger: dict[str, Any] | None
) -> dict[str, Any] | None:
    """`early_child`'s: the cache entry of a file the cache does not have, validated and
    resolved now and handed to this process's `prepare`; None when the run is refused (the
    refusal is handed over too: `prepare` raises it without validating again)."""
    global _refused
    key = resolved_cache.cache_key(path, text, inputs, trigger)
    try:
        entry = _entry_of(_validate(path, text), path, inputs, trigger, key)
    except FlowrunError as exc:
        _refused = None if key is None else (key, exc)
        return None
    resolved_cache.hand_over(key, entry)
    return entry


def _entry_of(
    checked: Any,
    path: Path,
    inputs: dict[str, Any] | None,
    trigger: dict[str, Any] | None,
    key: str | None,
) -> dict[str, Any]:
    """The cache entry of a validated file (stored), or the error refusing its run."""
    errors = [d for d in checked.diagnostics if str(d.severity) == "error"]
    if errors or checked.workflow is None:
        raise WorkflowInvalid(errors)
    resolved = _resolve(checked.workflow, checked.source, path, inputs, trigger)
    entry = {"resolved": resolved, "requires": list(checked.workflow.requires or [])}
    resolved_cache.store_entry(key, entry)
    return entry


def _validate(path: Path, text: str | None) -> Any:
    from flowrun.validate import validate_file, validate_text

    if text is not None:
        return validate_text(text, path)
    return validate_file(path)


def _resolve(
    workflow: Any,
    source: Any,
    path: Path,
    inputs: dict[str, Any] | None,
    trigger: dict[str, Any] | None,
) -> dict[str, Any]:
    from flowrun.spec.resolve import InputError, TriggerError, resolve

    try:
        resolved: dict[str, Any] = resolve(
            workflow, path, inputs=inputs, trigger=trigger, source=source
        )
    except TriggerError as exc:
        raise InvalidTrigger(
            f"{path.name}: {exc}",
            suggestion="Give a trigger matching the file's `trigger:` (--trigger FILE|JSON|-).",
        ) from None
    except InputError as exc:
        raise InvalidInput(
            f"{path.name}: {exc}",
            suggestion="Fix the --input values (NAME=VALUE).",
            missing=exc.missing,
        ) from None
    return resolved
