"""Python environments: find the user's interpreter, check it, find and install packages.

The names below load on first use (PEP 562), so that `flowrun.pyenv.known`, which the
engine's early spawn reads, does not bring asyncio with it; `packaging` is loaded when a
requirement's version is checked.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "flowrun.pyenv.interpreter": (
        "MIN_VERSION",
        "InterpreterInfo",
        "inspect_interpreter",
        "probe_interpreter",
    ),
    "flowrun.pyenv.packages": (
        "Unmet",
        "describe_unmet",
        "display_command",
        "install_packages",
        "missing_packages",
        "pip_install_command",
        "requirement_name",
        "unmet_requirements",
    ),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

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


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
