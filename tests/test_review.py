"""`ledger due` and `ledger review`, driven as a reviewer types, against real ledgers."""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta

import pytest

from ledger.review import parse_span

FORCE_TTY = "LEDGER_REVIEW_FORCE_TTY"


def add(cli, statement, p="70%", by="2020-01-01", *extra):
    return cli("add", statement, "-p", p, "--by", by, "-c", "as stated", *extra).stdout.strip()


@pytest.fixture
def review(cli, monkeypatch):
    """Run `ledger review` with scripted answers (one per line), as on a terminal."""
    monkeypatch.setenv(FORCE_TTY, "1")

    def run(*answers: str, args=(), ok=True):
        return cli("review", *args, input="".join(f"{a}\n" for a in answers), ok=ok)

    return run


@pytest.fixture
def due_four(cli):
    """Four overdue questions, oldest first: to resolve, annul, extend and skip."""
    return [
        add(cli, "The treaty is signed", "80%", "2020-01-01", "--at", "2019-06-01", "-c", "Signed text published"),
        add(cli, "The index beats its peak", "30%", "2021-01-01", "--at", "2020-06-01"),
        add(cli, "The vote passes", "60%", "2022-01-01", "--at", "2021-06-01"),
        add(cli, "The strike ends", "50%", "2023-01-01", "--at", "2022-06-01"),
    ]


def status(cli, question_id):
    return cli.json("show", question_id)["status"]


# -- due ------------------------------------------------------------------------


def test_due_lists_overdue_and_soon_oldest_first_with_days_overdue(cli):
    later = add(cli, "Due in ten days", "40%", "+10d")
    old = add(cli, "Long overdue", "70%", "2020-01-01")
    far = add(cli, "Due in a hundred days", "20%", "+100d")
    older = add(cli, "Even older", "70%", "2019-03-31", "--tag", "geo")
    done = add(cli, "Already resolved", "70%", "2019-01-01")
    cli("resolve", done, "yes")

    rows = cli.json("due")
    assert [r["id"][:8] for r in rows] == [older, old, later]
    today = date.today()
    assert rows[1]["days_overdue"] == (today - date(2020, 1, 1)).days
    assert rows[2]["days_overdue"] == -10
    assert rows[0]["status"] == "due" and rows[2]["status"] == "open"
    assert set(rows[0]) >= {"statement", "criteria", "forecasts", "tags", "resolve_by"}  # `list --json` shape

    assert [r["id"][:8] for r in cli.json("due", "--overdue")] == [older, old]
    assert [r["id"][:8] for r in cli.json("due", "--within", "4m")] == [older, old, later, far]
    assert [r["id"][:8] for r in cli.json("due", "--tag", "geo")] == [older]
    unknown = cli("due", "--forecaster", "nobody", ok=False)  # a typo, not an empty result
    assert unknown.exit_code == 1 and "no forecaster 'nobody' in this ledger; known: tester" in unknown.stderr

    table = cli("due").stdout
    assert f"{(today - date(2020, 1, 1)).days} days overdue" in table
    assert "due in 10 days" in table
    assert "Due in a hundred days" not in table


def test_due_rejects_a_bad_span_in_one_line(cli):
    add(cli, "Anything")
    result = cli("due", "--within", "soon", ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: not a span: 'soon' (use e.g. 30d, 2w, 3m or 1y)"


def test_parse_span():
    today = date(2025, 1, 31)
    assert parse_span("30d", today=today) == 30
    assert parse_span("2w", today=today) == 14
    assert parse_span("0", today=today) == 0
    assert parse_span("1m", today=today) == (date(2025, 2, 28) - today).days
    assert parse_span("1y", today=today) == 365


# -- refusing without a terminal ----------------------------------------------------


def test_review_without_a_terminal_refuses_and_points_to_scripts(cli, due_four, monkeypatch):
    monkeypatch.delenv(FORCE_TTY, raising=False)
    result = cli("review", input="r\nyes\n", ok=False)
    assert result.exit_code == 1
    assert "needs a terminal" in result.stderr
    assert "ledger due --json" in result.stderr and "ledger resolve" in result.stderr
    assert status(cli, due_four[0]) == "due"


# -- every choice ---------------------------------------------------------------


def test_review_resolve_annul_extend_skip_are_recorded(cli, review, due_four):
    resolved, annulled, extended, skipped = due_four
    new_by = date.today() + timedelta(days=90)
    result = review(
        "r", "yes", "2020-02-01", "Signed at the summit", "https://example.org/treaty", "y",
        "a", "The index was discontinued", "y",
        "e", new_by.isoformat(), "The vote was postponed", "y",
        "s",
    )
    out = result.stdout
    assert "[1/4] The treaty is signed" in out and "criteria: Signed text published" in out
    assert "80% by tester  (backfilled)" in out

    shown = cli.json("show", resolved)
    assert shown["status"] == "resolved" and shown["resolved_late"] is True
    [resolution] = shown["resolutions"]
    assert resolution["outcome"] == "yes"
    assert resolution["resolved_at"] == "2020-02-01T00:00:00Z"
    assert resolution["note"] == "Signed at the summit"
    assert resolution["evidence"] == "https://example.org/treaty"
    assert resolution["resolver"] == "tester"

    shown = cli.json("show", annulled)
    assert shown["status"] == "annulled"
    assert shown["resolution"]["note"] == "The index was discontinued"

    shown = cli.json("show", extended)
    assert shown["status"] == "open"
    assert shown["resolve_by"] == new_by.isoformat() and shown["original_resolve_by"] == "2022-01-01"
    [edit] = shown["edits"]
    assert (edit["field"], edit["value"]) == ("resolve_by", new_by.isoformat())
    assert edit["reason"] == "The vote was postponed" and edit["editor"] == "tester"
    assert "The vote was postponed" in cli("show", extended).stdout  # shown in history

    assert status(cli, skipped) == "due"
    assert "resolved 1, annulled 1, extended 1, skipped 1" in out
    assert "late (recorded after the resolve-by date): 2" in out
    # the 80% forecast on yes enters the score: time-averaged Brier (0.8 - 1)^2 = 0.04
    assert "scores: Brier none (0 questions scored) → 0.0400 on 1 question" in out

    # one transaction per decision, each in the chain; the chain is intact
    commands = cli("sql", "SELECT command FROM commits ORDER BY id", "--csv").stdout.splitlines()
    assert commands[-3:] == ["review: resolve", "review: annul", "review: extend"]
    cli("verify")


def test_review_resolves_a_multiple_choice_question_by_option(cli, review, db_path):
    from ledger.models import Forecast, Question
    from ledger.store import Store

    with Store.open(db_path) as store, store.write("add") as writer:
        question_id = writer.add_question(
            Question(statement="Who wins?", resolve_by="2020-06-30", options=["Red", "Blue", "Green"]),
            Forecast(forecaster="tester", probabilities=[0.5, 0.3, 0.2], made_at="2020-01-01"),
        )
    result = review("r", "Purple", "blue", "", "", "", "y")
    assert "options: Red / Blue / Green" in result.stdout
    assert "Red 50% / Blue 30% / Green 20% by tester" in result.stdout
    assert "Error: outcome must be one of the options Red, Blue, Green; got 'Purple'" in result.stdout
    shown = cli.json("show", question_id[:8])
    assert shown["resolution"]["outcome"] == "Blue"
    assert shown["resolution"]["evidence"] is None and shown["resolution"]["note"] is None


def test_quitting_midway_keeps_the_decisions_made(cli, review, due_four):
    result = review("r", "no", "", "", "", "y", "q")
    assert status(cli, due_four[0]) == "resolved"
    assert cli.json("show", due_four[0])["resolution"]["outcome"] == "no"
    assert [status(cli, q) for q in due_four[1:]] == ["due", "due", "due"]
    assert "resolved 1, annulled 0, extended 0, skipped 0, not reviewed 3" in result.stdout
    assert "[2/4]" in result.stdout and "[3/4]" not in result.stdout


def test_input_ending_midway_keeps_the_decisions_made(cli, review, due_four):
    result = review("a", "criteria unusable", "y", "r", "yes", ok=False)  # the input ends mid-question
    assert result.exit_code == 1  # not finished: a script must be able to tell
    assert "every decision made so far is kept" in result.stdout
    assert status(cli, due_four[0]) == "annulled"
    assert status(cli, due_four[1]) == "due"
    assert "annulled 1" in result.stdout and "not reviewed 3" in result.stdout


def test_a_crash_midway_keeps_earlier_decisions(cli, review, due_four, monkeypatch):
    from ledger.review import ReviewSession

    def crash(self, question, reason):
        raise RuntimeError("power cut")

    monkeypatch.setattr(ReviewSession, "annul", crash)
    result = review("r", "yes", "", "", "", "y", "a", "unclear", "y", ok=False)
    assert isinstance(result.exception, RuntimeError)
    assert status(cli, due_four[0]) == "resolved"
    assert status(cli, due_four[1]) == "due"
    cli("verify")


def test_bad_answers_are_asked_again(cli, review, due_four):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    result = review(
        "maybe",  # not a choice
        "r", "perhaps", "yes",  # not an outcome
        "next tuesday", tomorrow, "2020-03-01",  # not a date, then a future date
        "", "ftp://example.org/x", "",  # note empty, then a bad URL, then none
        "y",
        "e", "2019-01-01", "2024-01-01", "2099", "", "  ", "Data delayed", "y",  # earlier, past; empty reasons
        "a", "", "No such index", "n",  # declined: nothing recorded, asked again
        "annul", "No such index", "yes",
        "quit",
    )
    out = result.stdout
    assert "Error: choose one of [r]esolve, [a]nnul, [e]xtend, [s]kip, [q]uit" in out
    assert "Error: outcome must be yes or no for this question, got 'perhaps'" in out
    assert "Error: not a date or time: 'next tuesday'" in out
    assert "Error: an outcome cannot become known in the future" in out
    assert "Error: evidence must be an http(s) URL (or leave it empty)" in out
    assert "Error: the new date must be later than the current resolve-by date 2021-01-01" in out
    assert "Error: the new date must be in the future" in out
    assert "Error: this cannot be empty" in out

    first = cli.json("show", due_four[0])
    assert first["resolution"]["outcome"] == "yes"
    assert first["resolution"]["resolved_at"] == "2020-03-01T00:00:00Z"
    assert first["resolution"]["evidence"] is None
    second = cli.json("show", due_four[1])
    assert second["resolve_by"] == "2099-12-31"
    assert second["edits"][0]["reason"] == "Data delayed"
    third = cli.json("show", due_four[2])
    assert third["status"] == "annulled"
    assert [r["note"] for r in third["resolutions"]] == ["No such index"]  # the declined one wrote nothing
    assert "resolved 1, annulled 1, extended 1, skipped 0, not reviewed 1" in out


def test_declining_the_confirmation_writes_nothing(cli, review, due_four):
    result = review("r", "yes", "", "", "", "n", "s", "q")
    assert status(cli, due_four[0]) == "due"
    assert cli.json("show", due_four[0])["resolutions"] == []
    assert "skipped 1" in result.stdout


def test_review_filters_and_nothing_due(cli, review):
    add(cli, "Not due for years", "50%", "2099")
    tagged = add(cli, "Tagged and due", "50%", "2020-01-01", "--tag", "geo")
    add(cli, "Untagged and due", "50%", "2020-01-01")
    result = review("s", args=("--tag", "geo"))
    assert "1 question to review" in result.stdout
    assert "Tagged and due" in result.stdout and "Untagged and due" not in result.stdout
    assert status(cli, tagged) == "due"
    nothing = review(args=("--tag", "none-such"))
    assert "nothing to review" in nothing.stderr
    assert "resolved 0, annulled 0, extended 0, skipped 0" in nothing.stdout


def test_review_needs_an_existing_ledger(cli, review):
    result = review("q", ok=False)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: no ledger at")


# -- a real terminal ---------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_review_on_a_real_terminal(cli, due_four, monkeypatch):
    """No test hook: stdin is a pty, as when a person runs it."""
    import pty
    import select
    import time

    monkeypatch.delenv(FORCE_TTY, raising=False)
    pid, fd = pty.fork()
    if pid == 0:  # the child: `ledger review` on the pty
        os.execvp(sys.executable, [sys.executable, "-m", "ledger", "review"])
    output, deadline, answers = b"", time.monotonic() + 30, [b"s\n", b"q\n"]
    while time.monotonic() < deadline:
        if answers and output.count(b"[q]uit: ") > 2 - len(answers):
            os.write(fd, answers.pop(0))
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    _, code = os.waitpid(pid, 0)
    text = output.decode()
    assert os.waitstatus_to_exitcode(code) == 0, text
    assert "[1/4] The treaty is signed" in text and "skipped" in text
    assert "resolved 0, annulled 0, extended 0, skipped 1, not reviewed 3" in text


def test_terminal_escape_sequences_in_user_text_are_shown_not_obeyed(cli, review):
    add(cli, "Clear screen\x1b[2J now", "70%", "2020-01-01", "--quote", "bell\x07")
    out = review("q").stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "Clear screen\\x1b[2J now" in out and "bell\\x07" in out
