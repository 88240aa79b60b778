"""The served routes: every valid http workflow under the served folders, loaded once.

A `Route` holds what each request needs ready: the resolved workflow (pins removed: they
never apply in production), its secrets, the compiled path. A `RouteTable` is immutable;
hot reload builds a new one and swaps it in one assignment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowrun.spec.models import Workflow
from flowrun.spec.resolve import path_pattern
from flowrun.validate import ValidationResult, find_workflow_files, validate_file
from flowrun.validate.routes import RouteKey, path_range, route_conflicts, route_key

DEFAULT_TIMEOUT = 30.0
PARAM = re.compile(r"\{([^{}/]*)\}")


@dataclass(frozen=True)
class Route:
    key: RouteKey
    path: str  # as written: /orders/{id}
    file: Path
    line: int  # 1-based line of `trigger.path`
    workflow: Workflow
    resolved: dict[str, Any]  # the engine input; `inputs` and `trigger` set per request
    secrets: dict[str, str]
    pinned: tuple[str, ...]  # node ids whose `pin:` production ignores
    pattern: re.Pattern[str] = field(compare=False)

    @property
    def method(self) -> str:
        return self.key.method

    @property
    def workflow_id(self) -> str:
        return str(self.resolved["workflow"]["id"])

    @property
    def timeout(self) -> float:
        declared = self.workflow.trigger.timeout
        return DEFAULT_TIMEOUT if declared is None else float(declared)

    @property
    def authenticated(self) -> bool:
        return self.workflow.trigger.auth is not None

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path.rstrip("/") or "/")
        return None if found is None else found.groupdict()


@dataclass(frozen=True)
class Problem:
    """Why a file is not served, as `file:line:col: message` lines."""

    file: Path
    lines: tuple[str, ...]


class RouteConflict(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(line for p in problems for line in p.lines))
        self.problems = problems


@dataclass(frozen=True)
class RouteTable:
    routes: tuple[Route, ...] = ()

    def by_file(self) -> dict[Path, Route]:
        return {route.file: route for route in self.routes}

    def find(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, whether the path exists under another method)."""
        other_method = False
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method.upper():
                return route, params, False
            other_method = True
        return None, {}, other_method

    def replaced(self, file: Path, route: Route | None) -> RouteTable:
        """This table with `file`'s route replaced (None: removed)."""
        kept = [r for r in self.routes if r.file != file]
        return RouteTable(tuple([*kept, route] if route is not None else kept))


def compile_path(path: str) -> re.Pattern[str]:
    return path_pattern(path)


def diagnostics_lines(file: Path, result: ValidationResult) -> tuple[str, ...]:
    return tuple(
        f"{file}:{d.range.start.line + 1}:{d.range.start.character + 1}: "
        f"{d.severity}[{d.code}]: {d.message}"
        for d in result.diagnostics
        if str(d.severity) == "error"
    )


def validate_all(files: Iterable[Path]) -> dict[Path, ValidationResult]:
    return {file: validate_file(file) for file in files}


def load_table(folders: Iterable[Path]) -> tuple[RouteTable, list[Problem]]:
    """The routes of every valid http workflow; `RouteConflict` when two share a route."""
    files = find_workflow_files([Path(f) for f in folders])
    results = validate_all(dict.fromkeys(f.resolve() for f in files))
    conflicts = route_conflicts(results)
    if conflicts:
        raise RouteConflict(
            [Problem(f, diagnostics_lines(f, _only(results[f], d))) for f, d in conflicts.items()]
        )
    routes: list[Route] = []
    problems: list[Problem] = []
    for file, result in sorted(results.items()):
        route, problem = route_of(file, result)
        if route is not None:
            routes.append(route)
        if problem is not None:
            problems.append(problem)
    return RouteTable(tuple(routes)), problems


def _only(result: ValidationResult, diagnostics: list[Any]) -> ValidationResult:
    return ValidationResult(diagnostics, None, result.source, result.checked)


def route_of(file: Path, result: ValidationResult) -> tuple[Route | None, Problem | None]:
    """The route of a validated file; None (and why) when it cannot be served."""
    if result.has_errors or result.workflow is None:
        return None, Problem(file, diagnostics_lines(file, result))
    workflow = result.workflow
    key = route_key(workflow)
    if key is None or workflow.trigger.path is None:
        return None, None  # not an http workflow: nothing to serve, nothing wrong
    from flowrun.runs.workflow_secrets import gather_secrets
    from flowrun.spec.resolve import resolve

    placeholders = {name: None for name, spec in workflow.inputs.items() if spec.is_required}
    resolved = resolve(workflow, file, inputs=placeholders, source=result.source)
    pinned = _drop_pins(resolved)
    found = gather_secrets(resolved["workflow"], file)
    line = path_range(result).start.line + 1
    if found.missing:
        names = ", ".join(found.missing)
        message = f"{file}:{line}:1: error: secret(s) {names} not found; the route is not served"
        return None, Problem(file, (message,))
    try:
        pattern = compile_path(workflow.trigger.path)
    except re.error:
        message = f"{file}:{line}:1: error: trigger.path parameters must be names like {{id}}"
        return None, Problem(file, (message,))
    route = Route(
        key=key,
        path=workflow.trigger.path,
        file=file,
        line=line,
        workflow=workflow,
        resolved=resolved,
        secrets=found.values,
        pinned=pinned,
        pattern=pattern,
    )
    return route, None


def _drop_pins(resolved: Mapping[str, Any]) -> tuple[str, ...]:
    pinned: list[str] = []
    for stage in resolved["workflow"]["stages"]:
        for node in stage["nodes"]:
            if node.get("has_pin"):
                pinned.append(str(node["id"]))
                node["has_pin"] = False
                node["pin"] = None
    return tuple(pinned)
