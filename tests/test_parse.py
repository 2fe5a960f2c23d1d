from datetime import date, datetime

import pytest

from ledger.errors import LedgerError
from ledger.parse import parse_date, parse_moment, parse_probability


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.7", 0.7), (".7", 0.7), ("70%", 0.7), ("70 %", 0.7), ("0", 0.0), ("100%", 1.0), (0.25, 0.25)],
)
def test_probability_forms(text, expected):
    assert parse_probability(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["1.5", "150%", "-0.1", "abc", "", "nan", True])
def test_probability_rejects(text):
    with pytest.raises(LedgerError):
        parse_probability(text)


TODAY = date(2026, 1, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-06-30", date(2027, 6, 30)),
        ("2027", date(2027, 12, 31)),
        ("2027-Q1", date(2027, 3, 31)),
        ("2027-Q3", date(2027, 9, 30)),
        ("2027-02", date(2027, 2, 28)),
        ("+90d", date(2026, 5, 1)),
        ("+2w", date(2026, 2, 14)),
        ("+1m", date(2026, 2, 28)),  # clamped to the month's last day
        ("+6m", date(2026, 7, 31)),
        ("+1y", date(2027, 1, 31)),
    ],
)
def test_date_forms(text, expected):
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["tomorrow", "2027-13-01", "2027-Q5", "31/12/2027", ""])
def test_date_rejects(text):
    with pytest.raises(LedgerError, match="not a date"):
        parse_date(text, today=TODAY)


def test_moment_date_is_midnight_utc():
    assert parse_moment("2025-02-25") == datetime(2025, 2, 25)


def test_moment_with_zone_is_converted_to_utc():
    assert parse_moment("2025-02-25T12:00:00+02:00") == datetime(2025, 2, 25, 10, 0)
