"""What the values of `flowrun run`'s options mean: `--input`, `--trigger`, `--timeout`,
`--max-parallel` and `--from-execution` turned into the run's inputs, trigger and limits.
Cheap to import (the parser uses `positive_int`); heavy modules are imported inside."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


class UsageError(Exception):
    pass


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse_inputs(items: list[str]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--input {item!r}: expected NAME=VALUE, e.g. --input style=short")
        inputs[name.strip()] = raw  # resolve() converts text to the declared type
    return inputs


TRIGGER_EXAMPLE = '\'{"body": {"text": "hi"}}\''


def parse_trigger(value: str | None) -> dict[str, Any] | None:
    """`--trigger`: JSON text, `-` (stdin), or a file (`/dev/stdin` too)."""
    if value is None:
        return None
    if value == "-":
        text, where = sys.stdin.read(), "stdin"
    elif value.lstrip().startswith(("{", "[")):
        text, where = value, "--trigger"
    else:
        text, where = _read_trigger_file(value), f"file {value}"
    try:
        trigger = json.loads(text)
    except ValueError as exc:
        raise UsageError(
            f"{where} is not JSON ({exc}); give a JSON object such as "
            f"{TRIGGER_EXAMPLE} or a file containing one"
        ) from None
    if not isinstance(trigger, dict):
        raise UsageError("--trigger must be a JSON object (method, path, headers, query, body)")
    return trigger


def _read_trigger_file(value: str) -> str:
    try:
        with open(value, encoding="utf-8") as handle:  # open(): /dev/stdin is no regular file
            return handle.read()
    except FileNotFoundError:
        raise UsageError(
            f"--trigger {value}: no such file; give a file, - for stdin, or a JSON object "
            f"such as {TRIGGER_EXAMPLE}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"--trigger {value}: cannot read it ({reason})") from None


def recorded_request(
    args: argparse.Namespace, inputs: dict[str, Any] | None, trigger: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The inputs and trigger of a run `--from-execution` (debugging a production execution):
    that execution's, with those given on the command line over them (`request_from`)."""
    import asyncio

    from flowrun.history.store import HistoryStore, default_db_path
    from flowrun.runs.errors import FlowrunError
    from flowrun.runs.rerun import RerunSource, request_from, rerun_source

    async def read() -> RerunSource | None:
        store = await HistoryStore.open(args.db or default_db_path(args.file.resolve().parent))
        try:
            return await rerun_source(store, "", args.from_execution)
        finally:
            await store.close()

    try:
        source = asyncio.run(read())
    except FlowrunError as exc:
        raise UsageError(f"--from-execution {args.from_execution}: {exc}") from None
    return request_from(source, inputs, trigger)


def parse_timeout(value: str | None) -> float | None:
    if value is None:
        return None
    from flowrun_engine.durations import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"--timeout {value!r}: {exc}") from None
