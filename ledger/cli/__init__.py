"""The ``ledger`` command: a thin layer over the library.

Each stage's commands live in a module of this package and are merged into
one app with ``add_typer``. Commands parse, call one library function and
print. stdout carries data only (tables, JSON, CSV, ids); messages go to
stderr. A :class:`~ledger.errors.LedgerError` becomes one line on stderr
and its exit code; nothing a user can cause prints a traceback.

Heavy libraries (rich, numpy, plotly, pydantic, duckdb) are imported inside
the commands that need them, so ``ledger --help`` and ``ledger add`` start fast.
"""

from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

from ledger.errors import ExitCode, LedgerError


class LedgerGroup(TyperGroup):
    """Turns user mistakes raised anywhere in a command into one clear line."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LedgerError as error:
            typer.echo(f"error: {error}", err=True)
            ctx.exit(int(error.exit_code))
        except OSError as error:  # a path the user gave: missing folder, no permission, disk full
            where = f" {error.filename}" if error.filename else ""
            typer.echo(f"error: cannot use{where}: {error.strerror or error}", err=True)
            ctx.exit(int(ExitCode.USER_ERROR))
        except KeyboardInterrupt:
            typer.echo("interrupted; nothing half-written was kept", err=True)
            ctx.exit(130)
        except Exception as error:
            message = _user_message(error)
            if message is None:
                raise
            typer.echo(f"error: {message}", err=True)
            ctx.exit(int(ExitCode.USER_ERROR))


def _user_message(error: Exception) -> str | None:
    """One line for the validation errors of pydantic; None for real bugs."""
    from ledger.format import validation_message

    return validation_message(error)


app = typer.Typer(
    cls=LedgerGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from ledger import __version__

        typer.echo(f"ledger {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Show the version."),
) -> None:
    """Forecast Ledger: log forecasts, resolve them, score them, publish calibration."""


def _register() -> None:
    from ledger.cli import core, extract, report, review, score

    for module in (core, extract, review, score, report):
        app.add_typer(module.app)


_register()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
