"""Progress bars: on a terminal's stderr only; nothing at all when stderr is a pipe."""

import os
import subprocess
import sys

from tests.terminal import run_on_a_terminal

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
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    done, seen = run_on_a_terminal([sys.executable, "-c", SCRIPT], env=env, timeout=60)
    assert done.stdout == b"data\n"
    assert b"counting rows" in seen
