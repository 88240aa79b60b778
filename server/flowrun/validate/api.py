"""`validate_text` / `validate_file`: every rule over one file; never raises."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.spec.loader import LoadProblem, SourceMap, load_yaml
from flowrun.spec.positions import Position
from flowrun.validate import (
    codes,
    expressions,
    graph,
    injection,
    params,
    schema,
    secrets,
    testcases,
)
from flowrun.validate.context import RuleContext
from flowrun.validate.diagnostic import Diagnostic, Range, Related, Severity

if TYPE_CHECKING:
    from flowrun.spec.models import Workflow

Rule = Callable[[RuleContext], None]
RULES: tuple[Rule, ...] = (
    schema.check,
    params.check,
    graph.check,
    expressions.check,
    injection.check,
    secrets.check,
    testcases.check,
)

WORKFLOW_SUFFIXES = (".workflow.yml", ".workflow.yaml")
# Larger files are not validated (one diagnostic says so): a workflow that big is generated,
# and checking it would hold an editor's diagnostics for seconds.
MAX_FILE_BYTES = 2 * 1024 * 1024
SKIPPED_DIRS = frozenset({".git", "node_modules", ".flowrun", ".venv", "venv", "__pycache__"})


class ValidationResult:
    """The diagnostics of a file; its model when the schema checks passed; its source map
    (positions of keys/values, for LSP features)."""

    def __init__(
        self,
        diagnostics: list[Diagnostic],
        workflow: Workflow | None,
        source: SourceMap | None,
        checked: dict[str, Any] | None = None,
    ) -> None:
        self.diagnostics = diagnostics
        self.source = source
        self._workflow = workflow
        # what passed the schema checks: its model is built when asked for (not by `validate`)
        self.checked = checked

    @property
    def workflow(self) -> Workflow | None:
        if self._workflow is None and self.checked is not None:
            from flowrun.spec.core_schema import builder

            self._workflow = builder().validate_python(self.checked)
        return self._workflow

    @property
    def has_errors(self) -> bool:
        return any(d.severity == Severity.ERROR for d in self.diagnostics)


def validate_text(text: str, path: str | Path) -> ValidationResult:
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        return _too_large(size)
    # Loading allocates many small objects and creates no cycles worth collecting: pausing
    # the cyclic GC makes validation about a third faster.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _validate(text, str(path))
    except Exception as exc:  # the validator must never raise: report our own bug instead
        message = (
            f"flowrun could not check this file ({type(exc).__name__}: {exc}); "
            "please report this as a bug"
        )
        where = Range(Position(0, 0), Position(0, 0))
        return ValidationResult(
            [Diagnostic(where, Severity.ERROR, codes.INTERNAL_ERROR, message)], None, None
        )
    finally:
        if gc_was_enabled:
            gc.enable()


def validate_file(path: Path) -> ValidationResult:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        message = f"cannot read {path}: {exc.strerror or exc}"
        return _single_problem(message)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start)
        column = len(raw[raw.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", "replace"))
        message = (
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        )
        return _single_problem(message, Position(line, column))
    return validate_text(text, path)


def _too_large(size: int) -> ValidationResult:
    message = (
        f"this file is {size / (1024 * 1024):.1f} MB; files over "
        f"{MAX_FILE_BYTES // (1024 * 1024)} MB are not validated (nor run): split the workflow"
    )
    where = Range(Position(0, 0), Position(0, 1))
    return ValidationResult(
        [Diagnostic(where, Severity.ERROR, codes.FILE_TOO_LARGE, message)], None, None
    )


def _single_problem(message: str, at: Position | None = None) -> ValidationResult:
    at = at or Position(0, 0)
    where = Range(at, Position(at.line, at.character + 1))
    return ValidationResult(
        [Diagnostic(where, Severity.ERROR, codes.YAML_SYNTAX, message)], None, None
    )


def _validate(text: str, file: str) -> ValidationResult:
    loaded = load_yaml(text)
    source = loaded.source
    diagnostics = [_from_problem(source, p) for p in loaded.problems]
    if loaded.fatal:
        return ValidationResult(_sorted(diagnostics), None, source)
    data = loaded.data
    if not isinstance(data, dict):
        diagnostics.append(_not_a_mapping(source, data))
        return ValidationResult(_sorted(diagnostics), None, source)
    ctx = RuleContext(source.text, file, source, data)
    for rule in RULES:
        rule(ctx)
    diagnostics.extend(ctx.diagnostics)
    return ValidationResult(_sorted(diagnostics), None, source, ctx.checked)


def _from_problem(source: SourceMap, problem: LoadProblem) -> Diagnostic:
    related: tuple[Related, ...] = ()
    if problem.related is not None:
        related = (Related(source.range(problem.related[0]), problem.related[1]),)
    return Diagnostic(
        source.range(problem.span), Severity.ERROR, problem.code, problem.message, related
    )


def _not_a_mapping(source: SourceMap, data: object) -> Diagnostic:
    if data is None:
        message = "the file is empty; a workflow starts with `version: 1` and has `nodes:`"
        where = source.range(source.first_line_span())
    else:
        kind = "a list" if isinstance(data, list) else "a single value"
        message = f"a workflow is a mapping (key: value) at the top level, not {kind}"
        where = source.range(source.values.get((), source.first_line_span()))
        where = Range(where.start, Position(where.start.line, where.start.character + 1))
    return Diagnostic(where, Severity.ERROR, codes.SCHEMA, message)


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    unique = list(dict.fromkeys(diagnostics))
    return sorted(unique, key=lambda d: (d.range.start, d.range.end, d.code))


def is_workflow_file(path: Path) -> bool:
    return path.name.endswith(WORKFLOW_SUFFIXES)


def find_workflow_files(paths: Iterable[Path]) -> list[Path]:
    """Workflow files among `paths`: files as given, folders searched recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
                found.extend(Path(folder) / f for f in sorted(files) if is_workflow_file(Path(f)))
        else:
            found.append(path)
    return list(dict.fromkeys(found))
