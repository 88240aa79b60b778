"""Flowrun: write and run automation workflows locally, inside your editor."""

__version__ = "0.1.0"
