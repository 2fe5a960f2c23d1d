"""Progress bars: on a terminal's stderr only; nothing at all when stderr is a pipe."""

import os
import pty
import subprocess
import sys

SCRIPT = (
    "from ledger.cli.progress import progress\n"
    "with progress('counting rows', total=3) as advance:\n"
    "    for _ in range(3): advance(1)\n"
    "print('data')\n"
)


def test_a_pipe_gets_no_progress():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    assert done.stdout == "data\n"
    assert done.stderr == ""


def test_a_terminal_sees_the_bar():
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=follower, env=env, check=True, timeout=60
    )
    os.close(follower)
    seen = b""
    try:
        while chunk := os.read(leader, 65536):
            seen += chunk
    except OSError:  # the terminal's other end is closed: all is read
        pass
    os.close(leader)
    assert done.stdout == b"data\n"
    assert b"counting rows" in seen
