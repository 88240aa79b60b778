"""What a model costs: the shipped price table and the workspace's `.flowrun/prices.toml`.

Prices are USD per million tokens, `(input, output)`, as published by each provider on
`PRICES_DATE`. A workspace overrides or extends them in `<root>/.flowrun/prices.toml`, `root`
being the nearest folder from the workflow's folder up that holds `.flowrun` or `.git`:

    date = "2026-11-30"            # optional: when you took these prices
    [models."gpt-4o-mini"]
    input = 0.15                   # USD per million input tokens
    output = 0.60                  # USD per million output tokens

A model is found by its exact name, else by its name without a date suffix
(`claude-3-5-haiku-20241022` → `claude-3-5-haiku`, `gpt-4o-2024-08-06` → `gpt-4o`). A model
found nowhere has no cost (None): Flowrun never guesses. Models served by Ollama run on the
user's machine and cost 0 unless the table names them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

PRICES_DATE = "2025-08-15"
PRICES_FILE = os.path.join(".flowrun", "prices.toml")
LOCAL_PROVIDERS = frozenset({"ollama"})
_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$")

# model → (input, output) USD per million tokens, on PRICES_DATE
SHIPPED: dict[str, tuple[float, float]] = {
    # OpenAI
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.0),
    "gpt-4o-mini": (0.15, 0.60),
    "o3": (2.0, 8.0),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    # Anthropic
    "claude-opus-4-1": (15.0, 75.0),
    "claude-opus-4": (15.0, 75.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-3-7-sonnet": (3.0, 15.0),
    "claude-3-5-sonnet": (3.0, 15.0),
    "claude-3-5-haiku": (0.80, 4.0),
    "claude-3-haiku": (0.25, 1.25),
    "claude-3-opus": (15.0, 75.0),
    # Groq
    "llama-3.1-8b-instant": (0.05, 0.08),
    "llama-3.3-70b-versatile": (0.59, 0.79),
    "gemma2-9b-it": (0.20, 0.20),
}


@dataclass
class Prices:
    """The price table of one run: shipped prices, then the workspace's."""

    models: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(SHIPPED))
    date: str = PRICES_DATE
    problem: str | None = None  # the override file could not be read (the shipped table holds)

    def price(self, model: str | None, provider: str | None = None) -> tuple[float, float] | None:
        if model:
            found = self.models.get(model)
            if found is None and (match := _SUFFIX.search(model)):
                found = self.models.get(model[: match.start()])
            if found is not None:
                return found
        return (0.0, 0.0) if provider in LOCAL_PROVIDERS else None

    def cost(
        self, model: str | None, input_tokens: int, output_tokens: int, provider: str | None = None
    ) -> float | None:
        price = self.price(model, provider)
        if price is None:
            return None
        return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000


def find_root(start: str) -> str:
    """The nearest folder from `start` up holding `.flowrun` or `.git` (else `start`)."""
    folder = os.path.abspath(start)
    while True:
        if os.path.isdir(os.path.join(folder, ".flowrun")) or os.path.exists(
            os.path.join(folder, ".git")
        ):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.path.abspath(start)
        folder = parent


def load(start: str | None) -> Prices:
    """The shipped table with `<root>/.flowrun/prices.toml` over it, when there is one."""
    prices = Prices()
    if start is None:
        return prices
    path = os.path.join(find_root(start), PRICES_FILE)
    if not os.path.isfile(path):
        return prices
    try:
        import tomllib

        with open(path, "rb") as file:
            data = tomllib.load(file)
        prices.models.update(_models(data.get("models") or {}))
    except (OSError, ValueError) as exc:
        prices.problem = f"{path}: {exc}"
        return prices
    if isinstance(data.get("date"), str):
        prices.date = str(data["date"])
    return prices


def _models(table: Mapping[str, object]) -> dict[str, tuple[float, float]]:
    found: dict[str, tuple[float, float]] = {}
    for name, entry in table.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"[models.{name!r}] must be a table with `input` and `output`")
        values = entry.get("input"), entry.get("output")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise ValueError(f"[models.{name!r}] needs numbers `input` and `output` (USD/M tokens)")
        found[str(name)] = (float(values[0]), float(values[1]))  # type: ignore[arg-type]
    return found
