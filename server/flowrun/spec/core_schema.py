"""The models' validator, precompiled: the pydantic-core schema of `Workflow`, generated from
the models into `workflow.core-schema.json`, so that checking a file imports pydantic-core
only, not pydantic, and builds no model (that import and build were most of a cold
`flowrun validate` and of a file's first run).

It is the same schema run by the same pydantic-core, so it reports exactly the errors of
`Workflow.model_validate`. `checker()` makes plain `Record`s (the validator needs the errors
only); `builder()` makes the models themselves, whose classes are then only defined
(`defer_build`): pydantic's own schema building is skipped for them too. With another
pydantic-core than the one the file was generated with (a user's pydantic may be newer), both
are the models' own validator.

    python -m flowrun.spec.core_schema      # after changing the models (a test says when)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.spec import checks

if TYPE_CHECKING:
    from pydantic_core import SchemaValidator

SCHEMA_FILE = Path(__file__).with_name("workflow.core-schema.json")
MODELS = "flowrun.spec.models"
# keys of a core schema that only serialization and the JSON Schema read
_UNUSED_KEYS = frozenset({"metadata", "serialization"})
_BUILTINS = {"list": list, "dict": dict}


class Record:
    """A validated mapping of the precompiled validator: the model's fields as attributes."""


@cache
def checker() -> SchemaValidator:
    """Validates a workflow's top-level mapping (the `x-` keys left out) into `Record`s."""
    return _load(lambda name: Record, lambda name: Record)[0]


@cache
def builder() -> SchemaValidator:
    """Validates the same into the `Workflow` model."""
    import pydantic_core

    from flowrun.spec import models

    parts: dict[str, Any] = {}  # the schema of each model, by name
    made: dict[str, SchemaValidator] = {}

    def default_of(name: str) -> Callable[[], Any]:
        def make() -> Any:  # `Trigger()` would build the deferred model: validate `{}` instead
            if name not in made:
                made[name] = pydantic_core.SchemaValidator(parts[name])
            return made[name].validate_python({})

        return make

    validator, schema = _load(lambda name: getattr(models, name), default_of)
    shared = schema.get("definitions", []) if isinstance(schema, dict) else []
    for name, part in _model_schemas(schema).items():
        parts[name] = {"type": "definitions", "schema": part, "definitions": shared}
    return validator


def _load(
    model: Callable[[str], Any], default: Callable[[str], Any]
) -> tuple[SchemaValidator, Any]:
    """The validator of the stored schema and that schema, its classes and default factories
    given by `model` and `default` (from the model's name)."""
    import pydantic_core

    def revive(value: dict[str, Any]) -> Any:
        if len(value) != 1:
            return value
        key, name = next(iter(value.items()))
        if key == "$model":
            return model(name)
        if key == "$new":
            return default(name)
        if key == "$py":
            return _BUILTINS.get(name) or getattr(checks, name)
        return value

    stored = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"), object_hook=revive)
    if stored["pydantic_core"] != pydantic_core.__version__:  # pragma: no cover
        from flowrun.spec.models import Workflow

        return Workflow.__pydantic_validator__, None  # type: ignore[return-value]
    return pydantic_core.SchemaValidator(stored["schema"]), stored["schema"]


def _model_schemas(schema: Any, found: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `model` schemas inside `schema`, by model name."""
    found = {} if found is None else found
    if isinstance(schema, dict):
        if schema.get("type") == "model" and isinstance(schema.get("ref"), str):
            found.setdefault(schema["ref"].rpartition(".")[2], schema)
        for value in schema.values():
            _model_schemas(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _model_schemas(value, found)
    return found


def generate() -> dict[str, Any]:
    """The stored form of the models' core schema (imports the models)."""
    import pydantic_core

    from flowrun.spec.models import Workflow

    Workflow.model_rebuild()  # the models are defined with `defer_build`
    return {
        "pydantic_core": pydantic_core.__version__,
        "schema": _storable(Workflow.__pydantic_core_schema__),
    }


def _storable(value: Any, key: str = "") -> Any:
    from pydantic import BaseModel

    if isinstance(value, dict):
        stored = {k: _storable(v, k) for k, v in value.items() if k not in _UNUSED_KEYS}
        for ref in ("ref", "schema_ref"):  # `module.Model:<id of the class>`: per process
            if isinstance(stored.get(ref), str):
                stored[ref] = stored[ref].partition(":")[0]
        return stored
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    if isinstance(value, type) and issubclass(value, BaseModel):
        if value.__module__ != MODELS:
            raise ValueError(f"{value!r} is not in {MODELS}")
        return {"$new" if key == "default_factory" else "$model": value.__name__}
    if value is list or value is dict:
        return {"$py": value.__name__}
    if callable(value):
        name = getattr(value, "__name__", "")
        if getattr(checks, name, None) is not value:
            raise ValueError(f"{value!r} is not in flowrun.spec.checks: move it there")
        return {"$py": name}
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError(f"cannot store {value!r} in the core schema")
    return value


def main() -> None:
    SCHEMA_FILE.write_text(json.dumps(generate(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
