"""The script run inside the user's interpreter: one subprocess answers every question.

It must run on any Python (even 2.7 or 3.6) so that a too-old interpreter is reported with
its version instead of a syntax error: no f-strings, no walrus, no annotations.

Answer: `executable`, `version`, `missing` (the requirement keys not importable) and
`versions` (key → the installed distribution's version, for the keys that were found and
have distribution metadata; the server checks it against the requirement's specifier).
"""

from __future__ import annotations

PROBE_SOURCE = r"""
import sys, json
out = {"executable": sys.executable,
       "version": "%d.%d.%d" % tuple(sys.version_info[:3]),
       "missing": [], "versions": {}}
if sys.version_info >= (3, 8):
    import importlib.util
    import importlib.metadata
    for key, dist, module in json.loads(sys.argv[1]):
        version = None
        try:
            version = importlib.metadata.version(dist)
        except Exception:
            version = None
        found = version is not None
        if not found:
            try:
                found = importlib.util.find_spec(module) is not None
            except Exception:
                found = False
        if not found:
            out["missing"].append(key)
        elif version is not None:
            out["versions"][key] = version
sys.stdout.write(json.dumps(out))
"""
