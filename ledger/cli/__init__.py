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

import errno
import os
import sys

import typer
from typer.core import TyperGroup

from ledger.errors import ExitCode, LedgerError
from ledger.format import visible

# pydantic reads every installed package's metadata for plugins when it builds its first model
# (~50 ms of a cold `ledger add`, measured on this machine); the command uses none.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


class LedgerGroup(TyperGroup):
    """Turns every failure a user can reach into one clear line and its exit code."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        """Click's own standalone handling, except that a usage mistake is one line too, not a box."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        # Typer bundles its own click; its exceptions are what the parser raises.
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as error:  # plain `ledger`: the help, as click shows it
            error.show()
            sys.exit(error.exit_code)
        except ClickException as error:  # an unknown command or option, a missing or bad value
            where = f" (see `{error.ctx.command_path} --help`)" if getattr(error, "ctx", None) else ""
            typer.echo(visible(f"error: {error.format_message().rstrip('.')}{where}"), err=True)
            sys.exit(error.exit_code)
        except typer.Abort:  # Ctrl-C or Ctrl-D at a prompt
            typer.echo("interrupted: nothing written", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except BrokenPipeError:
            _quiet_stdout()
            ctx.exit(int(ExitCode.BROKEN_PIPE))
        except KeyboardInterrupt:
            _fail(ctx, "interrupted: nothing written", ExitCode.INTERRUPTED)
        except LedgerError as error:
            if "No space left on device" in str(error):  # DuckDB's text, passed on by a stage
                _fail(ctx, _NO_SPACE, ExitCode.USER_ERROR)
            _fail(ctx, f"error: {error}", int(error.exit_code))
        except OSError as error:  # a path the user gave: missing folder, no permission, disk full
            if error.errno == errno.ENOSPC:
                _fail(ctx, _NO_SPACE, ExitCode.USER_ERROR)
            where = f" {error.filename}" if error.filename else ""
            _fail(ctx, f"error: cannot use{where}: {error.strerror or error}", ExitCode.USER_ERROR)
        except Exception as error:
            message = _user_message(error)
            if message is None:
                raise
            _fail(ctx, message if message.startswith(("error:", "interrupted")) else f"error: {message}",
                  ExitCode.INTERRUPTED if message.startswith("interrupted") else ExitCode.USER_ERROR)


_NO_SPACE = "error: no space left on device: nothing written (free some space and try again)"


def _fail(ctx, line: str, code: int):
    """The one line on stderr (user text in it shown, not obeyed) and the exit code."""
    typer.echo(visible(line), err=True)
    ctx.exit(int(code))


def _quiet_stdout() -> None:
    """After the reader of stdout went away, send what is left to /dev/null so that
    Python's flush at exit does not print `Broken pipe` either."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _user_message(error: Exception) -> str | None:
    """One line for pydantic's validation errors and DuckDB's errors; None for real bugs.

    DuckDB raises its own exceptions for a corrupted or truncated file, a full disk
    or an interrupted query; they are named by their root cause (a failed write is
    often followed by a failed rollback, whose message says nothing useful).
    """
    from ledger.format import validation_message

    message = validation_message(error)
    if message is not None:
        return message
    psycopg = sys.modules.get("psycopg")  # a team ledger's server error that ledger.store_pg did not name
    if psycopg is not None and isinstance(error, psycopg.Error):
        return (str(error).strip().splitlines() or [type(error).__name__])[0]
    duckdb = sys.modules.get("duckdb")
    if duckdb is None or not isinstance(error, duckdb.Error):
        return None
    cause = error
    while isinstance(cause.__context__, duckdb.Error | OSError):
        cause = cause.__context__
    if isinstance(cause, duckdb.InterruptException):
        return "interrupted: nothing written"
    text = str(cause).strip()
    if "No space left on device" in text or (isinstance(cause, OSError) and cause.errno == errno.ENOSPC):
        return _NO_SPACE
    return (text.splitlines() or [type(cause).__name__])[0]


def _plain_metavars() -> None:
    """Help in the usual Unix form: `--db PATH`, `--tag TEXT`, `ID`; nothing after a flag, no
    `<bool>`, `<list[str]>` or `{file}`. Typer spells types its own way in every help panel
    and usage line, so its two parameter classes are told how to name a value here, once."""
    from typer.core import TyperArgument, TyperOption

    def option_type(self, ctx):
        if self.is_flag or self.count:
            return None
        return self.metavar or _type_word(self.type_descriptor)

    def argument_name(self):
        name = self.metavar or self.name.upper()
        return name if self.required else f"[{name}]"

    TyperOption.display_type_rich = option_type
    TyperArgument.display_type_rich = lambda self, ctx: None
    TyperArgument._usage_display_name = argument_name
    TyperArgument.display_name_raw = property(lambda self: self.metavar or self.name.upper())


def _type_word(descriptor) -> str:
    if descriptor.is_path:
        return "PATH"
    annotation = descriptor.annotation
    for kind, word in ((int, "INTEGER"), (float, "NUMBER")):
        if annotation is kind or kind in getattr(annotation, "__args__", ()):
            return word
    return "TEXT"


_UNSURE = object()


def _plain_value(descriptor, value, param, ctx):
    """What typer's pydantic adapter makes of a plain value (text, a whole number within its bounds, a
    flag, a path, a value with its own parser), without pydantic; :data:`_UNSURE` for anything else."""
    from pathlib import Path

    info, kind = descriptor.parameter_info, descriptor.annotation
    if info.parser is not None and not isinstance(value, (list, tuple)):
        try:
            return info.parser(value)
        except Exception:  # noqa: BLE001  (typer's own path runs it again and words the error)
            return _UNSURE
    if kind is str and isinstance(value, str):
        return value
    if kind == list[str] and isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return list(value)
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and not info.clamp and (type(value) is int or (
            isinstance(value, str) and value.isascii() and value.isdigit())):  # a default, or digits typed
        number = int(value)
        low, high = info.min, info.max
        return number if (low is None or number >= low) and (high is None or number <= high) else _UNSURE
    if descriptor.is_path and info.path_type is None and isinstance(kind, type) and issubclass(kind, Path):
        from typer._param_types import coerce_cli_path

        return coerce_cli_path(kind(value), info, path_type=kind, param=param, ctx=ctx)
    return _UNSURE


def _plain_coercion() -> None:
    """Typer coerces every parameter through a pydantic TypeAdapter: importing pydantic and building
    an adapter for each of a command's ~20 parameters was ~0.3 s of a cold `ledger add` (cProfile).
    Plain values (:func:`_plain_value`) are taken as the adapter would take them; anything else, and
    every mistake, goes through typer's own coercion, so its messages stay word for word.

    These are typer's private names (0.29): a typer without them keeps its own coercion, slower
    at start-up but the same in every answer."""
    from dataclasses import dataclass
    from typing import Any

    try:
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_path  # noqa: F401  (used by _plain_value)
        from typer.core import _TyperParameter
    except ImportError:
        return
    if not hasattr(_TyperParameter, "get_runtime_param"):
        return

    @dataclass(frozen=True)
    class PlainParam(RuntimeParam):
        descriptor: Any

        def _coerce_value(self, value, param, ctx):
            plain = _plain_value(self.descriptor, value, param, ctx)
            if plain is not _UNSURE:
                return plain
            return build_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    def get_runtime_param(self):
        if self._runtime_param is None:
            descriptor = self.type_descriptor
            self._runtime_param = (build_runtime_param(descriptor) if descriptor.is_file else
                                   PlainParam(descriptor.parameter_info, descriptor.annotation, descriptor))
        return self._runtime_param

    _TyperParameter.get_runtime_param = get_runtime_param


_plain_metavars()
_plain_coercion()

app = typer.Typer(
    cls=LedgerGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
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
    try:
        app()
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
            sys.exit(int(ExitCode.BROKEN_PIPE))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
