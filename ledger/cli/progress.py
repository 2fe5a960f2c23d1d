"""Progress on stderr for work that can take over a second: a terminal only, never a pipe.

The library reports progress through a plain callback (``on_progress(n)``: n more
units done), so it never depends on the CLI; the CLI hands it the ``advance`` that
:func:`progress` yields. On a terminal that is a rich bar (a spinner and the time
taken when the total is unknown) on stderr, which disappears when the work ends; when
stderr is not a terminal (a pipe, a file, CI, a test) it is a no-op, so nothing
reaches logs and stdout stays data only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress"]


def _noop(advance: int = 1) -> None:
    return None


@contextmanager
def progress(label: str, total: int | Callable[[], int] | None = None) -> Iterator[Callable[[int], None]]:
    """A context yielding ``advance(n)``; shows a bar on a terminal, nothing elsewhere.

    ``total`` may be a function, called only when the bar is shown: sizing a bar can cost
    a pass over the ledger, which a pipe has no use for.
    """
    if not sys.stderr.isatty():
        yield _noop
        return
    if callable(total):
        total = total()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}"),
               *([BarColumn(), MofNCompleteColumn()] if total is not None else []), TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda advance=1: bar.advance(task, advance)
