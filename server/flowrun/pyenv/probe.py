"""The script run inside the user's interpreter: one subprocess answers every question.

It must run on any Python (even 2.7 or 3.6) so that a too-old interpreter is reported with
its version instead of a syntax error: no f-strings, no walrus, no annotations.
"""

from __future__ import annotations

PROBE_SOURCE = r"""
import sys, json
out = {"executable": sys.executable,
       "version": "%d.%d.%d" % tuple(sys.version_info[:3]),
       "missing": []}
if sys.version_info >= (3, 8):
    import importlib.util
    for key, dist, module in json.loads(sys.argv[1]):
        found = False
        try:
            found = importlib.util.find_spec(module) is not None
        except Exception:
            found = False
        if not found:
            try:
                import importlib.metadata
                importlib.metadata.distribution(dist)
                found = True
            except Exception:
                found = False
        if not found:
            out["missing"].append(key)
sys.stdout.write(json.dumps(out))
"""
