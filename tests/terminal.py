"""Run a process with its stderr on a pseudo-terminal and read what the terminal showed."""

from __future__ import annotations

import os
import pty
import subprocess


def run_on_a_terminal(command: list[str], **options) -> tuple[subprocess.CompletedProcess, bytes]:
    """Run ``command`` with stderr on a pty (stdout piped); return the process and the terminal's bytes."""
    leader, follower = pty.openpty()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=follower, check=True, **options)
    os.close(follower)
    seen = b""
    try:
        while chunk := os.read(leader, 65536):
            seen += chunk
    except OSError:  # the terminal's other end is closed: all is read
        pass
    os.close(leader)
    return done, seen
