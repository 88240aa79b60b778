"""The `flowrun` entry point itself: behaviour shared by every command."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """`flowrun schema | head -c 10`: the pipe closes while flowrun still writes."""
    read_end, write_end = os.pipe()
    # a one-page pipe: the ~20 KB schema cannot fit, so flowrun is still writing when we close
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    process = subprocess.Popen(
        [sys.executable, "-m", "flowrun", "schema"], stdout=write_end, stderr=subprocess.PIPE
    )
    os.close(write_end)
    assert os.read(read_end, 10)
    os.close(read_end)  # what `head` does after its first bytes
    assert process.stderr is not None
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=30) == 1
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
