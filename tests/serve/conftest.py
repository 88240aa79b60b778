"""Fixtures of the `flowrun serve` tests (the server helper is `served.py`)."""

from served import serve_factory

__all__ = ["serve_factory"]
