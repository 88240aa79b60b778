"""The Flowrun engine: runs one workflow execution inside the user's own interpreter.

Standard library only: this package is put on the child's PYTHONPATH, alone, and must
import in any Python >= 3.11 without flowrun's dependencies. See docs/internals.md for
the JSON it reads on stdin and the events it writes on fd 3.
"""
