"""`ledger calendar`: an RFC 5545 file, read back with the icalendar library."""

from __future__ import annotations

from datetime import date

from icalendar import Calendar


def add(cli, statement, by, *extra):
    return cli("add", statement, "-p", "60%", "--by", by, "-c", "as stated", *extra).stdout.strip()


def events(data: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(data)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def full_id(cli, short_id):
    return cli.json("show", short_id)["id"]


def test_one_event_per_open_question_with_stable_uids(cli, tmp_path):
    tricky = add(cli, "Treaty signed; talks, \"finally\"\nover?", "2027-06-30",
                 "-c", "Text published by both; see <https://example.org>", "--tag", "geo")
    overdue = add(cli, "Long overdue", "2020-01-01")
    resolved = add(cli, "Resolved one", "2026-12-31")
    annulled = add(cli, "Annulled one", "2026-12-31")
    cli("resolve", resolved, "yes")
    cli("annul", annulled, "--reason", "undefined")

    data = cli("calendar").stdout_bytes
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    calendar = Calendar.from_ical(data)
    assert str(calendar["version"]) == "2.0" and "Forecast Ledger" in str(calendar["prodid"])
    found = events(data)
    ids = {full_id(cli, q) for q in (tricky, overdue)}
    assert set(found) == {f"{i}@forecast-ledger" for i in ids}  # open and overdue only

    event = found[f"{full_id(cli, tricky)}@forecast-ledger"]
    assert event.decoded("dtstart") == date(2027, 6, 30)  # all-day: a DATE, not a DATE-TIME
    assert b"DTSTART;VALUE=DATE:20270630\r\n" in data
    assert event.decoded("dtend") == date(2027, 7, 1)
    assert str(event["summary"]) == 'Resolve: Treaty signed; talks, "finally"\nover?'
    description = str(event["description"])
    assert "Criteria: Text published by both; see <https://example.org>" in description
    assert f"ledger show {tricky}" in description
    assert event.get("dtstamp") is not None
    assert int(event["sequence"]) == 0
    assert [str(c) for c in event["categories"].cats] == ["geo"]
    [alarm] = event.walk("VALARM")
    assert str(alarm["action"]) == "DISPLAY"

    # the same ledger gives the same UIDs again; -o writes the same events to a file
    out = tmp_path / "forecasts.ics"
    cli("calendar", "-o", out)
    assert set(events(out.read_bytes())) == set(found)


def test_an_extension_updates_the_event_instead_of_adding_one(cli):
    question = add(cli, "Vote passes", "2020-01-01")
    before = events(cli("calendar").stdout_bytes)
    cli("edit", question, "--by", "2030-03-31", "--reason", "postponed")
    after = events(cli("calendar").stdout_bytes)
    assert set(before) == set(after)
    [uid] = after
    assert after[uid].decoded("dtstart") == date(2030, 3, 31)
    assert int(after[uid]["sequence"]) == int(before[uid]["sequence"]) + 1


def test_an_empty_ledger_gives_a_valid_empty_calendar(cli):
    cli("init")
    data = cli("calendar").stdout_bytes
    assert Calendar.from_ical(data).walk("VEVENT") == []
