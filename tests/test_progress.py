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


SIZED = (
    "from ledger.cli.progress import progress\n"
    "def total():\n"
    "    print('sized')\n"
    "    return 3\n"
    "with progress('counting rows', total=total) as advance:\n"
    "    for _ in range(3): advance(1)\n"
    "print('data')\n"
)


def test_a_bar_is_sized_only_when_it_is_shown():
    """Sizing a report's bar costs a pass over the ledger: a pipe never pays for it."""
    done = subprocess.run([sys.executable, "-c", SIZED], capture_output=True, text=True, check=True)
    assert done.stdout == "data\n"
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    done, seen = run_on_a_terminal([sys.executable, "-c", SIZED], env=env, timeout=60)
    assert done.stdout == b"sized\ndata\n"
    assert b"counting rows" in seen
