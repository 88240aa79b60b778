"""Python environments: find the user's interpreter, check it, find and install packages.

Stdlib only, so the CLI's run path stays quick to import.
"""

from flowrun.pyenv.interpreter import (
    MIN_VERSION,
    InterpreterInfo,
    inspect_interpreter,
    probe_interpreter,
)
from flowrun.pyenv.packages import (
    display_command,
    install_packages,
    missing_packages,
    pip_install_command,
    requirement_name,
)

__all__ = [
    "MIN_VERSION",
    "InterpreterInfo",
    "display_command",
    "inspect_interpreter",
    "install_packages",
    "missing_packages",
    "pip_install_command",
    "probe_interpreter",
    "requirement_name",
]
