"""The whole suite: the pytest process is no engine's subreaper (`flowrun run` and
`flowrun lsp` are, when tests start them as processes), so an orphan of an in-process run goes
to init as usual and never waits, a zombie, for pytest to reap it."""

from flowrun.runs import containment

containment.SUBREAPER = False

# Workflow files whose `tests:` fail on purpose (the flowrun pytest plugin would collect them):
# the tests of `flowrun test`, the plugin and the editor use them as data.
collect_ignore_glob = ["workflow_samples/*", "e2e/workspace/*"]
