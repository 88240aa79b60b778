"""Workspace rules: problems no single file shows. `duplicate-workflow-id`: two files with the
same workflow id (their `id:`, else their file name) would share one history and one set of
statistics, so each of them gets a diagnostic, with related information at the other.
`route-conflict` (`flowrun.validate.routes`): two http workflows on one method and path.

Given the validation results of many files, `workspace_diagnostics` returns the extra
diagnostics of each file; `flowrun validate` and the language server add them to the file's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flowrun.spec.file_names import id_from_file_name
from flowrun.spec.positions import Position, Range
from flowrun.validate import codes
from flowrun.validate.api import ValidationResult
from flowrun.validate.diagnostic import Diagnostic, Related, Severity
from flowrun.validate.routes import Route, conflicts_of_routes, route_of

RELATED_LIMIT = 10  # other files listed when many share one id


Identity = tuple[str, Range, bool]  # (workflow id, where it is written, whether `id:` is)


@dataclass(frozen=True)
class Facts:
    """What the workspace rules need of one file (the language server keeps only this, made
    where it validated the file, not the whole validation result)."""

    identity: Identity | None
    route: Route | None


def facts_of(path: Path, result: ValidationResult) -> Facts:
    return Facts(workflow_id_of(path, result), route_of(result))


def workspace_diagnostics(
    files: Iterable[tuple[Path, ValidationResult]],
) -> dict[Path, list[Diagnostic]]:
    return diagnostics_of_facts([(path, facts_of(path, result)) for path, result in files])


def diagnostics_of_facts(files: list[tuple[Path, Facts]]) -> dict[Path, list[Diagnostic]]:
    extra = duplicate_ids([(path, facts.identity) for path, facts in files])
    routes = {path: facts.route for path, facts in files}
    for path, conflicts in conflicts_of_routes(routes).items():  # `route-conflict`
        extra.setdefault(path, []).extend(conflicts)
    return extra


def duplicate_ids(files: Iterable[tuple[Path, Identity | None]]) -> dict[Path, list[Diagnostic]]:
    by_id: dict[str, list[tuple[Path, Range, bool]]] = {}
    for path, found in files:
        if found is not None:
            name, where, written = found
            by_id.setdefault(name, []).append((path, where, written))
    extra: dict[Path, list[Diagnostic]] = {}
    for name, owners in by_id.items():
        if len(owners) < 2:
            continue
        for path, where, written in owners:
            others = [o for o in owners if o[0] != path]
            extra.setdefault(path, []).append(_duplicate(name, where, written, others))
    return extra


def workflow_id_of(path: Path, result: ValidationResult) -> Identity | None:
    """(id, where it is written or the first line, whether `id:` is written) of a file."""
    source = result.source
    data = source.data if source is not None else None
    if source is None or not isinstance(data, dict):
        return None
    raw = data.get("id")
    if isinstance(raw, str) and raw:
        span = source.values.get(("id",))
        where = source.range(span) if span is not None else Range(Position(0, 0), Position(0, 0))
        return raw, where, True
    if result.checked is None and raw is not None:
        return None  # an id that is not text: the schema rule says so
    first = source.range(source.first_line_span())
    return id_from_file_name(path), first, False


def _duplicate(
    name: str, where: Range, written: bool, others: list[tuple[Path, Range, bool]]
) -> Diagnostic:
    shown = ", ".join(str(o[0]) for o in others[:3]) + (", …" if len(others) > 3 else "")
    origin = "" if written else " (from the file name)"
    message = (
        f"workflow id `{name}`{origin} is also the id of {shown}; each workflow needs its own id "
        "(its runs and statistics are kept by id): set a different `id:`"
    )
    related = tuple(
        Related(other_where, f"`{name}` is also the id of this workflow", file=str(other))
        for other, other_where, _ in others[:RELATED_LIMIT]
    )
    return Diagnostic(where, Severity.ERROR, codes.DUPLICATE_WORKFLOW_ID, message, related)
