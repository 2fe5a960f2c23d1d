"""Reminders: the open questions' resolve-by dates as an iCalendar (RFC 5545) file.

The stage behind ``ledger calendar``: :func:`build_calendar` writes one
all-day event per open question on its resolve-by date, with a stable UID
(:func:`uid`) so that importing a newer file updates events instead of
duplicating them. User text is written with its control characters and bidi
overrides spelled out (:func:`ledger.format.visible`): a NUL byte or an escape
sequence never reaches the file or the calendar app that shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ledger.format import short_id, visible
from ledger.parse import utc_now

if TYPE_CHECKING:
    from ledger.store import Store

__all__ = ["UID_DOMAIN", "build_calendar", "uid"]

UID_DOMAIN = "forecast-ledger"


def uid(question_id: str) -> str:
    """The stable iCalendar UID of a question's resolve-by event."""
    return f"{question_id}@{UID_DOMAIN}"


def build_calendar(store: Store, *, now: datetime | None = None) -> bytes:
    """An iCalendar file: one all-day event per open question on its resolve-by date.

    UIDs are stable (``<question id>@forecast-ledger``) and SEQUENCE counts
    the resolve-by extensions, so re-importing updates events instead of
    duplicating them.
    """
    from icalendar import Alarm, Calendar, Event

    now = now or utc_now()
    stamp = now.replace(microsecond=0)
    extensions = store.edit_counts("resolve_by")
    calendar = Calendar()
    calendar.add("prodid", "-//Forecast Ledger//ledger calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Forecast Ledger: resolve-by dates")
    for question in store.questions(status="open"):
        statement = visible(question.statement, newlines=True)
        event = Event()
        event.add("uid", uid(question.id))
        event.add("dtstamp", stamp.replace(tzinfo=UTC))
        event.add("dtstart", question.resolve_by)
        event.add("dtend", question.resolve_by + timedelta(days=1))
        event.add("sequence", extensions.get(question.id, 0))
        event.add("summary", f"Resolve: {statement}")
        description = [
            statement,
            "",
            "Criteria: " + visible(question.criteria or "(none given)", newlines=True),
        ]
        if question.options:
            description.append(f"Options: {visible(' / '.join(question.options))}")
        description += ["", f"Details: ledger show {short_id(question.id)}",
                        f"Resolve: ledger resolve {short_id(question.id)} OUTCOME, or run ledger review"]
        event.add("description", "\n".join(description))
        if question.tags:
            event.add("categories", [visible(tag) for tag in question.tags])
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Resolve: {statement}")
        alarm.add("trigger", timedelta(hours=9))  # 09:00 on the resolve-by day
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()

