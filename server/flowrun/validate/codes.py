"""Diagnostic codes of design §4, in one place."""

from __future__ import annotations

YAML_SYNTAX = "yaml-syntax"
DUPLICATE_KEY = "duplicate-key"
SCHEMA = "schema"
UNKNOWN_KEY = "unknown-key"
DUPLICATE_ID = "duplicate-id"
UNKNOWN_NODE_TYPE = "unknown-node-type"
MISSING_PARAMETER = "missing-parameter"
UNKNOWN_NEEDS = "unknown-needs"
CYCLE = "cycle"
EXPRESSION_SYNTAX = "expression-syntax"
UNKNOWN_REFERENCE = "unknown-reference"
NOT_UPSTREAM = "not-upstream"
BAD_DURATION = "bad-duration"
LOOP_BOUNDS = "loop-bounds"
UNKNOWN_PROVIDER = "unknown-provider"
SECRET_LITERAL = "secret-literal"
MISSING_DEPENDENCY = "missing-dependency"  # raised by lsp/python_env.py, not by validate()
STALE_PIN = "stale-pin"  # a pin file's hash: lsp/pins.py, runs/pin_check.py; not validate()
CONFLICTING_PARAMETERS = "conflicting-parameters"
DUPLICATE_WORKFLOW_ID = "duplicate-workflow-id"  # workspace rule (validate.workspace)
TEMPLATE_INJECTION = "template-injection"
SECRET_IN_COMMAND = "secret-in-command"
FILE_TOO_LARGE = "file-too-large"
INTERNAL_ERROR = "internal-error"
ROUTE_CONFLICT = "route-conflict"  # across files (flowrun.validate.routes)
# the `tests:` section (flowrun.validate.testcases)
DUPLICATE_TEST = "duplicate-test"
TEST_UNKNOWN_NODE = "test-unknown-node"
TEST_UNKNOWN_OUTPUT = "test-unknown-output"
TEST_INPUT = "test-input"
UNKNOWN_MATCHER = "unknown-matcher"
BAD_MATCHER = "bad-matcher"

# every constant above, in order: a new code is one line
ALL_CODES: tuple[str, ...] = tuple(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)
