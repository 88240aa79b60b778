"""What one node cost: LLM calls, tokens, an estimated cost in USD, and HTTP status and bytes.

One `NodeMetrics` per node (all its attempts: a failed attempt's tokens were paid for too).
Node types add to it through `ctx.metrics`; `node_finished` carries `metrics` (design §9
names) when the node made an LLM call or an HTTP request:

    {"llm_calls": 1, "input_tokens": 21, "output_tokens": 9, "cost_usd": 0.0000129,
     "provider": "groq", "model": "llama-3.1-8b-instant", "http_status": 200, "http_bytes": 512}

`cost_usd` is left out when a call's cost is not known (a model without a price, a
provider that did not report its usage): tokens without a cost, never a guess.
`cost_unknown` counts such calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flowrun_engine.prices import Prices


@dataclass
class NodeMetrics:
    price_table: Callable[[], Prices] = Prices  # called at the first call that needs a price
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cost_unknown: int = 0
    provider: str | None = None
    model: str | None = None
    http: dict[str, int] = field(default_factory=dict)
    cached: bool = False

    def add_llm(
        self,
        provider: str | None,
        model: str | None,
        input_tokens: int | None,
        output_tokens: int | None,
        *,
        cost_usd: float | None = None,
        calls: int = 1,
    ) -> None:
        """One LLM call (or `calls`); `cost_usd` when the tool reported it (agent CLIs)."""
        self.llm_calls += calls
        self.provider = provider or self.provider
        self.model = model or self.model
        self.input_tokens += input_tokens or 0
        self.output_tokens += output_tokens or 0
        if cost_usd is None and input_tokens is not None and output_tokens is not None:
            cost_usd = self.price_table().cost(model, input_tokens, output_tokens, provider)
        if cost_usd is None:
            self.cost_unknown += calls
        else:
            self.cost_usd += cost_usd

    def add_http(self, status: int, size: int) -> None:
        self.http = {"http_status": status, "http_bytes": self.http.get("http_bytes", 0) + size}

    def to_event(self) -> dict[str, Any] | None:
        """The `metrics` of `node_finished`, or None when there is nothing to say."""
        out: dict[str, Any] = {}
        if self.llm_calls:
            out.update(
                llm_calls=self.llm_calls,
                input_tokens=self.input_tokens,
                output_tokens=self.output_tokens,
                provider=self.provider,
                model=self.model,
            )
            if self.llm_calls > self.cost_unknown:
                out["cost_usd"] = round(self.cost_usd, 9)
            if self.cost_unknown:
                out["cost_unknown"] = self.cost_unknown
        out.update(self.http)
        return out or None
