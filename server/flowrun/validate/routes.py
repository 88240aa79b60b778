"""`route-conflict`: two http workflows of one workspace on the same method and path.

A rule over several files (the others look at one): `flowrun serve` refuses to start on a
conflict, `flowrun validate` and the editor report it on both files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from flowrun.validate import codes
from flowrun.validate.api import ValidationResult
from flowrun.validate.diagnostic import Diagnostic, Position, Range, Related, Severity

if TYPE_CHECKING:
    from flowrun.spec.models import Workflow

DEFAULT_METHOD = "POST"
_PARAM = re.compile(r"\{[^{}/]*\}")


class RouteKey(NamedTuple):
    method: str
    shape: str  # the path with every `{param}` as `{}`: `/a/{x}` and `/a/{y}` are one route


def route_key(workflow: Workflow) -> RouteKey | None:
    """Where `flowrun serve` serves `workflow`; None for a workflow that is not http."""
    trigger = workflow.trigger
    return _route_key(trigger.type, trigger.method, trigger.path)


def _route_key(kind: str, method: str | None, path: str | None) -> RouteKey | None:
    if kind != "http" or path is None:
        return None
    method = (method or DEFAULT_METHOD).upper()
    return RouteKey(method, _PARAM.sub("{}", path.rstrip("/") or "/"))


Route = tuple[RouteKey, Range]  # where a file is served, and where its `trigger.path` is


def route_of(result: ValidationResult) -> Route | None:
    """From what passed the schema checks: building the model would cost more."""
    if result.checked is None:
        return None
    trigger: dict[str, Any] = result.checked.get("trigger", {})
    key = _route_key(trigger.get("type", "manual"), trigger.get("method"), trigger.get("path"))
    return None if key is None else (key, path_range(result))


def route_conflicts(results: Mapping[Path, ValidationResult]) -> dict[Path, list[Diagnostic]]:
    """The `route-conflict` diagnostics of each file (only files with a conflict)."""
    return conflicts_of_routes({path: route_of(result) for path, result in results.items()})


def conflicts_of_routes(routes: Mapping[Path, Route | None]) -> dict[Path, list[Diagnostic]]:
    """The same, from each file's route (the language server keeps only that of a file)."""
    owners: dict[RouteKey, list[Path]] = {}
    for path, route in routes.items():
        if route is not None:
            owners.setdefault(route[0], []).append(path)
    found: dict[Path, list[Diagnostic]] = {}
    for key, paths in owners.items():
        if len(paths) < 2:
            continue
        ranges = {path: route[1] for path in paths if (route := routes[path]) is not None}
        for path in paths:
            others = [p for p in paths if p != path]
            found.setdefault(path, []).append(_diagnostic(key, path, others, ranges))
    return found


def _diagnostic(
    key: RouteKey, path: Path, others: list[Path], ranges: Mapping[Path, Range]
) -> Diagnostic:
    where = ranges[path]
    names = ", ".join(f"{other}:{ranges[other].start.line + 1}" for other in others)
    related = tuple(Related(ranges[other], "the same route", str(other)) for other in others)
    message = (
        f"route `{key.method} {key.shape}` is also served by {names}; "
        "give each workflow its own `trigger.method` + `trigger.path`"
    )
    return Diagnostic(where, Severity.ERROR, codes.ROUTE_CONFLICT, message, related)


def path_range(result: ValidationResult) -> Range:
    """The `trigger.path` value (else `trigger`) in that file."""
    source = result.source
    if source is None:
        return Range(Position(0, 0), Position(0, 0))
    for where in (("trigger", "path"), ("trigger",)):
        span = source.values.get(where)
        if span is not None:
            return source.range(span)
    return Range(Position(0, 0), Position(0, 0))
