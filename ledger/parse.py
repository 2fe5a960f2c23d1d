"""Parsing of the values people type: probabilities, dates and moments.

Each parser takes a string (or an already-typed value) and returns the typed
value, or raises :class:`LedgerError` with a message that says what was
expected. They are used by the CLI and, through pydantic validators, by
prediction files, so ``70%`` and ``2027-Q3`` mean the same everywhere.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta

from ledger.errors import LedgerError

_PERCENT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*%\s*$")
_RELATIVE = re.compile(r"^\+(\d+)\s*([dwmy])$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_probability(value: str | float | int) -> float:
    """Read ``0.7``, ``.7`` or ``70%`` as 0.7; reject anything outside [0, 1]."""
    if isinstance(value, bool):
        raise LedgerError(f"probability must be a number, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        percent = _PERCENT.match(text)
        try:
            number = float(percent.group(1)) / 100 if percent else float(text)
        except ValueError:
            raise LedgerError(
                f"probability must be a number like 0.7 or 70%, got {text!r}"
            ) from None
    if not 0.0 <= number <= 1.0 or number != number:
        raise LedgerError(f"probability must be between 0 and 1 (or 0% and 100%), got {value!r}")
    return number


def _add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def parse_date(value: str | date, *, today: date | None = None) -> date:
    """Read a resolve-by date.

    Accepts an ISO date (``2027-06-30``), a month (``2027-06``: its last day),
    a quarter (``2027-Q3``: its last day), a year (``2027``: 31 December) or a
    span from today (``+90d``, ``+6w``, ``+6m``, ``+1y``). A date outside the
    calendar (``+9999y``, year 0) is refused like any other bad date.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return _read_date(text, today or date.today())
    except (OverflowError, ValueError):
        raise LedgerError(f"{text!r} is outside the calendar (years 1 to 9999)") from None


def _read_date(text: str, today: date) -> date:
    if match := _RELATIVE.match(text):
        count, unit = int(match.group(1)), match.group(2).lower()
        if unit == "d":
            return today + timedelta(days=count)
        if unit == "w":
            return today + timedelta(weeks=count)
        return _add_months(today, count * (12 if unit == "y" else 1))
    if match := _QUARTER.match(text):
        year, quarter = int(match.group(1)), int(match.group(2))
        return date(year, quarter * 3, calendar.monthrange(year, quarter * 3)[1])
    if _YEAR.match(text):
        return date(int(text), 12, 31)
    if match := _MONTH.match(text):
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12:
            return date(year, month, calendar.monthrange(year, month)[1])
    try:
        return date.fromisoformat(text)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise LedgerError(f"not a date: {text!r} (no such day in the calendar)") from None
        raise LedgerError(
            f"not a date: {text!r} (use 2027-06-30, 2027-06, 2027-Q3, 2027, +90d or +6m)"
        ) from None


def parse_moment(value: str | date | datetime) -> datetime:
    """Read a moment (``--at``, ``made_at``) and return it as naive UTC.

    A bare date means midnight UTC that day; a datetime without a zone is
    taken as local time, the way a person at the terminal means it.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                return datetime(day.year, day.month, day.day)
            moment = datetime.fromisoformat(text)
        except ValueError:
            if re.match(r"\d{4}-\d{2}-\d{2}(?:$|[T ])", text) and not _is_day(text[:10]):
                raise LedgerError(f"not a date or time: {text!r} (no such day in the calendar)") from None
            raise LedgerError(
                f"not a date or time: {text!r} (use 2025-02-25 or 2025-02-25T14:30)"
            ) from None
    try:
        if moment.tzinfo is None:
            moment = moment.astimezone()  # local wall-clock time
        return moment.astimezone(UTC).replace(tzinfo=None)
    except (OverflowError, ValueError):
        raise LedgerError(f"{value!s} is outside the calendar (years 1 to 9999)") from None


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(|b|kb|k|mb|m|gb|g)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3}


def parse_size(value: str | int) -> int:
    """A size in bytes: ``2MB``, ``500KB``, ``1.5MB`` or a plain number of bytes (units of 1000)."""
    match = _SIZE.match(str(value))
    if not match:
        raise LedgerError(f"not a size: {value!r} (use e.g. 2MB, 500KB or a number of bytes)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def parse_seconds(value: str, *, name: str) -> float:
    """A number of seconds from the environment (``$LEDGER_BUSY_TIMEOUT``): finite and not negative."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds < float("inf"):
        raise LedgerError(f"{name} must be a number of seconds (e.g. 5), not {value!r}")
    return seconds


def utc_now() -> datetime:
    """The current moment as naive UTC, the form the ledger stores."""
    return datetime.now(UTC).replace(tzinfo=None)
