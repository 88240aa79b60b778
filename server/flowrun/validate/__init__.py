"""Validation of workflow files (design §4): rules → Diagnostic(range, severity, code, ...)."""

from flowrun.validate.api import (
    ValidationResult,
    find_workflow_files,
    validate_file,
    validate_text,
)
from flowrun.validate.diagnostic import Diagnostic, Fix, Position, Range, Related, Severity

__all__ = [
    "Diagnostic",
    "Fix",
    "Position",
    "Range",
    "Related",
    "Severity",
    "ValidationResult",
    "find_workflow_files",
    "validate_file",
    "validate_text",
]
