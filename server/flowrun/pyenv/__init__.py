"""Python environments: find the user's interpreter, check it, find and install packages.

Stdlib only at import, so the CLI's run path stays quick to import; `packaging` is
loaded when a requirement's version is checked.
"""

from flowrun.pyenv.interpreter import (
    MIN_VERSION,
    InterpreterInfo,
    inspect_interpreter,
    probe_interpreter,
)
from flowrun.pyenv.packages import (
    Unmet,
    describe_unmet,
    display_command,
    install_packages,
    missing_packages,
    pip_install_command,
    requirement_name,
    unmet_requirements,
)

__all__ = [
    "MIN_VERSION",
    "InterpreterInfo",
    "Unmet",
    "describe_unmet",
    "display_command",
    "inspect_interpreter",
    "install_packages",
    "missing_packages",
    "pip_install_command",
    "probe_interpreter",
    "requirement_name",
    "unmet_requirements",
]
