"""Errors a user can cause, and the exit codes they map to.

Library code raises :class:`LedgerError` (or a subclass) with a message
written for the person at the terminal; the CLI prints it as one line on
stderr and exits with the error's code. Anything else is a bug.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the ``ledger`` command (documented in the README)."""

    OK = 0
    USER_ERROR = 1  # bad input: a value, a file, a date, a probability
    USAGE = 2  # the command line itself is malformed (typer/click)
    NOT_FOUND = 3  # no such question, or no ledger at that path
    BUSY = 4  # another process holds the ledger
    TAMPERED = 5  # `ledger verify` found a record that does not match
    MISSING_DEPENDENCY = 6  # an optional tool (e.g. a browser for PNG) is absent
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it); nothing half-written is kept
    BROKEN_PIPE = 141  # stdout was closed early, e.g. piped into `head` (128 + SIGPIPE); no message


class LedgerError(Exception):
    """A mistake the user can fix; the message is shown as is."""

    exit_code = ExitCode.USER_ERROR


class NotFound(LedgerError):
    exit_code = ExitCode.NOT_FOUND


class LedgerBusy(LedgerError):
    exit_code = ExitCode.BUSY


class Tampered(LedgerError):
    exit_code = ExitCode.TAMPERED


class MissingDependency(LedgerError):
    exit_code = ExitCode.MISSING_DEPENDENCY
