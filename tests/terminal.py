"""Run a process with its stderr on a pseudo-terminal and read what the terminal showed."""

from __future__ import annotations

import os
import pty
import selectors
import subprocess


def run_on_a_terminal(command: list[str], *, stdout_too: bool = False, timeout: float,
                      **options) -> tuple[subprocess.CompletedProcess, bytes]:
    """Run ``command`` with stderr on a pty (stdout piped, or on the pty too with ``stdout_too``);
    return the process, its stdout and the terminal's bytes.

    Both are read while the process runs: a pty holds a few kilobytes and a pipe 64, and a
    process printing more would wait forever for a reader.
    """
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdout=follower if stdout_too else subprocess.PIPE, stderr=follower,
                          **options) as process:
        os.close(follower)
        out = process.stdout.fileno() if process.stdout else None
        read = {fd: b"" for fd in (leader, out) if fd is not None}
        with selectors.DefaultSelector() as selector:
            for fd in read:
                selector.register(fd, selectors.EVENT_READ)
            while selector.get_map():
                ready = selector.select(timeout)
                if not ready:
                    process.kill()
                    raise subprocess.TimeoutExpired(command, timeout)
                for key, _ in ready:
                    try:
                        chunk = os.read(key.fd, 65536)
                    except OSError:  # the terminal's other end is closed: all is read
                        chunk = b""
                    if chunk:
                        read[key.fd] += chunk
                    else:
                        selector.unregister(key.fd)
        os.close(leader)
        code = process.wait(timeout=timeout)
    stdout = read[out] if out is not None else None
    if code:
        raise subprocess.CalledProcessError(code, command, stdout, read[leader])
    return subprocess.CompletedProcess(command, code, stdout, None), read[leader]
