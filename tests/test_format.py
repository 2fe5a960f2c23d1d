"""The display rules every surface shares (CLI, review minutes, calendar, report)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from ledger.format import (
    count, forecast_text, interval, is_http_url, number, percent, percent_fixed, plural, short_id, source_line,
    validation_message,
)


def test_short_id_is_the_typeable_prefix():
    assert short_id("3f9a1c2e0b7d4e11") == "3f9a1c2e"


@pytest.mark.parametrize(("n", "text"), [(0, "0 days"), (1, "1 day"), (2, "2 days")])
def test_plural(n, text):
    assert plural(n, "day") == text


@pytest.mark.parametrize("url", ["https://example.org/a?b=1", "HTTP://x.org", "  https://x.org/path  "])
def test_http_urls_may_become_links(url):
    assert is_http_url(url)


@pytest.mark.parametrize("text", [None, "", "javascript:alert(1)", "ftp://x.org", "https://x.org/<script>",
                                  'https://x.org/"onmouseover', "https://x.org/a b", "https://x.org/`x`",
                                  "https://x.org/\\x", "https://"])
def test_anything_else_is_not_a_link(text):
    assert not is_http_url(text)


def test_numbers_and_percentages():
    assert number(0.123456, 4) == "0.1235" and number(None) == "–"
    assert percent(0.125) == "12.5%" and percent(None) == "" and percent(None, missing="–") == "–"
    assert percent(0.33333, significant=3) == "33.3%"
    assert percent_fixed(0.7) == "70%" and percent_fixed(0.975) == "97.5%" and percent_fixed(0.7, 1) == "70.0%"
    assert count(1234) == "1,234" and count(2.5) == "2.5" and count(3.0) == "3"
    assert interval([0.1, 0.2]) == "0.100 to 0.200" and interval(None) == ""
    assert interval([0.1, 0.2], 4, joiner=" … ", missing="–") == "0.1000 … 0.2000"


def _question(options):
    from ledger.records import StoredQuestion

    return StoredQuestion(id="ab12", kind="binary" if options is None else "multiple_choice", statement="Q",
                          criteria=None, resolve_by=date(2030, 1, 1), original_resolve_by=date(2030, 1, 1),
                          options=options, tags=[], status="open", resolved_late=False,
                          created_at=datetime(2025, 1, 1), quote=None, source=None, forecasts=(), resolution=None,
                          corrected_from=None)


def _forecast(probability=None, probabilities=None):
    from ledger.records import StoredForecast

    return StoredForecast(probability=probability, probabilities=probabilities, forecaster="ann",
                          made_at=datetime(2025, 1, 1), recorded_at=datetime(2025, 1, 1), backfilled=False, note=None)


def test_forecast_text_for_both_kinds():
    assert forecast_text(_question(None), _forecast(probability=0.7)) == "70%"
    multiple = _question(["A", "B"])
    assert forecast_text(multiple, _forecast(probabilities=[0.25, 0.75])) == "A 25% / B 75%"
    assert forecast_text(multiple, None) == ""


def test_source_line_leaves_out_what_is_missing():
    from ledger.records import StoredSource

    source = StoredSource(title="T", author=None, outlet="O", published=date(2025, 2, 25), url="https://x.org")
    assert source_line(source) == "T · O · 2025-02-25 · <https://x.org>"
    assert source_line(None) == ""


def test_validation_message_is_one_line_without_pydantics_prefix():
    class Model(BaseModel):
        probability: float

        @field_validator("probability")
        @classmethod
        def between(cls, value: float) -> float:
            if not 0 <= value <= 1:
                raise ValueError("a probability is between 0 and 1")
            return value

    with pytest.raises(ValidationError) as error:
        Model(probability=2)
    assert validation_message(error.value) == "probability: a probability is between 0 and 1"
    assert validation_message(ValueError("not pydantic")) is None
