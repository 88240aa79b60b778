"""The whole suite: the pytest process is no engine's subreaper (`flowrun run` and
`flowrun lsp` are, when tests start them as processes), so an orphan of an in-process run goes
to init as usual and never waits, a zombie, for pytest to reap it."""

from flowrun.runs import containment

containment.SUBREAPER = False
