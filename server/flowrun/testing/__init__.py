"""Workflow tests (the `tests:` section): cases, mocks, matchers, running and reporting."""
