"""`trigger.auth`: a bearer token or an HMAC signature over the raw body.

Comparisons are constant-time (`hmac.compare_digest`); a refusal says nothing about why.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from flowrun.spec.models import TriggerAuth
from flowrun_engine import expr


def secret_value(template: str, secrets: Mapping[str, str]) -> str:
    """`${{ secrets.X }}` (or any expression over `secrets` and `env`) → its text."""
    import os

    value: Any = expr.render(template, {"secrets": dict(secrets), "env": dict(os.environ)})
    return expr.to_text(value)


def authorized(
    auth: TriggerAuth | None,
    secrets: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    """Whether the request passes `auth`; `headers` has lower-cased names."""
    if auth is None:
        return True
    if auth.bearer is not None:
        expected = secret_value(auth.bearer, secrets)
        given = headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        ok = hmac.compare_digest(token.strip().encode(), expected.encode())
        return ok and scheme.lower() == "bearer" and bool(expected)
    assert auth.hmac is not None
    config = auth.hmac
    key = secret_value(config.secret, secrets).encode()
    digest = hmac.new(key, body, getattr(hashlib, config.algorithm)).hexdigest()
    expected_signature = f"{config.prefix}{digest}"
    given_signature = headers.get(config.header.lower(), "")
    return bool(key) and hmac.compare_digest(given_signature.encode(), expected_signature.encode())
