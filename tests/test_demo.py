"""`ledger demo`: a demo ledger of its own and its dashboard, offline, never the user's ledger."""

from __future__ import annotations

from pathlib import Path


def test_demo_builds_its_own_ledger_and_dashboard(cli, tmp_path, monkeypatch):
    (tmp_path / "predictions").mkdir()  # run inside a project: the site goes to its reports/
    monkeypatch.chdir(tmp_path)
    user_ledger = Path(tmp_path / "ledger.duckdb")  # $LEDGER_DB of the conftest
    result = cli("demo")
    page = Path(result.stdout.strip())
    assert page == Path("reports/demo/index.html") and (tmp_path / page).exists()
    assert list((tmp_path / "reports/assets").glob("plotly-*.min.js"))  # shared by the reports root
    assert "demo ledger:" in result.stderr and "open reports/demo/index.html" in result.stderr
    assert not user_ledger.exists()  # the user's ledger was never created nor touched
    demo_db = Path(str(tmp_path / "home" / "data" / "forecast-ledger" / "demo-ledger.duckdb"))
    assert demo_db.exists()

    from ledger.store import Store

    with Store.open(demo_db, create=False, read_only=True) as store:
        report = store.verify()  # the synthetic history is a valid hash chain
        assert report.n_commits > 12
        facts = store.con.execute("""
            SELECT (SELECT count(DISTINCT forecaster) FROM forecasts),
                   (SELECT count(*) FROM questions WHERE status = 'annulled'),
                   (SELECT count(*) FROM questions WHERE status = 'resolved'),
                   (SELECT count(*) FROM questions WHERE status IN ('open', 'due')),
                   (SELECT count(*) FROM questions WHERE kind = 'multiple_choice'),
                   (SELECT count(*) FROM forecasts WHERE backfilled),
                   (SELECT count(*) FROM forecasts),
                   (SELECT count(*) FROM (SELECT question_id, forecaster FROM forecasts GROUP BY ALL HAVING count(*) > 1)),
                   (SELECT count(*) FROM resolutions WHERE NOT current),
                   (SELECT count(*) FROM edits),
                   (SELECT count(*) FROM questions WHERE statement LIKE 'The US succeeds in drawing Russia%')
        """).fetchone()
    forecasters, annulled, resolved, open_, multiple, backfilled, forecasts, revised, corrected, edits, worked = facts
    assert forecasters >= 4 and resolved >= 80 and open_ >= 10 and multiple >= 5
    assert 2 <= annulled <= 8
    assert 0 < backfilled < forecasts / 10  # a few, not all: the history was recorded as it happened
    assert revised >= 10 and corrected == 1 and edits == 1
    assert worked == 1  # the worked example (predictions/reverse-kissinger.yaml) is in it

    html = (tmp_path / page).read_text(encoding="utf-8")
    assert 'id="leaderboard"' in html and "Demo: a forecasting track record" in html
    sections = [section for q in (tmp_path / "reports/demo/q").glob("*.html")  # a page per id prefix
                for section in q.read_text(encoding="utf-8").split('<section class="question"')[1:]]
    assert sum("The Reverse Kissinger" in s for s in sections) == 6  # the worked example's six questions


def test_demo_rebuilds_fresh_each_run(tmp_path):
    """Built once from Python (its progress counted), then by the command on a pipe: nothing but its lines."""
    import os
    import subprocess
    import sys

    from ledger.demo import HISTORY_DAYS, build_demo_ledger

    out = tmp_path / "site"
    db = tmp_path / "demo.duckdb"
    days: list[int] = []
    store, made = build_demo_ledger(db, on_progress=days.append)
    store.close()
    assert made.path == db and sum(days) == HISTORY_DAYS and min(days) >= 0 and len(days) > 12
    first = db.stat().st_size
    done = subprocess.run([sys.executable, "-m", "ledger", "demo", "--out", str(out), "--demo-db", str(db)],
                          capture_output=True, env={**os.environ, "TERM": "xterm"}, check=True, timeout=600)
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 2 and lines[0].startswith("demo ledger: ") and lines[1].startswith("open "), lines
    assert done.stdout.decode() == f"{out / 'index.html'}\n"
    from ledger.store import Store

    with Store.open(db, create=False, read_only=True) as store:
        n = store.con.execute("SELECT count(*) FROM questions WHERE statement LIKE 'The US succeeds%'").fetchone()[0]
    assert n == 1 and abs(db.stat().st_size - first) < first  # not appended to twice


def test_demo_refuses_the_users_ledger(cli, tmp_path):
    result = cli("demo", "--out", tmp_path / "site", "--demo-db", tmp_path / "ledger.duckdb", ok=False)
    assert result.exit_code == 1 and "is your own ledger" in result.stderr


def test_shipped_worked_example_matches_the_repository():
    from ledger.demo import prediction_files

    shipped = Path(__import__("ledger.demo").demo.__file__).parent / "reverse-kissinger.yaml"
    repo = Path(__file__).resolve().parents[1] / "predictions" / "reverse-kissinger.yaml"
    assert shipped.exists()
    if repo.exists():
        assert shipped.read_text(encoding="utf-8") == repo.read_text(encoding="utf-8"), (
            "ledger/demo/reverse-kissinger.yaml is the copy an installed package uses: copy the repository's file over it")
    assert prediction_files()


def test_generator_is_seeded():
    from datetime import date

    from ledger.demo import generate

    a, b = generate(7, today=date(2026, 1, 1)), generate(7, today=date(2026, 1, 1))
    assert a == b  # every row, moments included: a story told as of a day ends that day, not now
    assert generate(8, today=date(2026, 1, 1)).questions != a.questions


def test_demo_never_replaces_a_file_it_did_not_make(cli, tmp_path):
    foreign = tmp_path / "notes.txt"
    foreign.write_bytes(b"precious")
    bad = cli("demo", "--demo-db", foreign, "--out", tmp_path / "site", ok=False)
    assert bad.exit_code == 1 and "is not a demo ledger made by `ledger demo`" in bad.stderr
    assert bad.stderr.count("\n") == 1 and foreign.read_bytes() == b"precious"
    # a real ledger (not a demo one) is refused too, byte for byte unchanged
    other = tmp_path / "other.duckdb"
    cli("add", "It rains in Lisbon on 2030-01-01", "-p", "0.3", "--by", "2030-01-02", "--criteria", "IPMA daily record",
        "--db", other)
    before = other.read_bytes()
    bad = cli("demo", "--demo-db", other, "--out", tmp_path / "site", ok=False)
    assert bad.exit_code == 1 and other.read_bytes() == before
    assert not (tmp_path / "site").exists()


def test_a_terminal_sees_the_demo_progress(tmp_path):
    import os
    import sys

    from tests.terminal import run_on_a_terminal

    out = tmp_path / "site"
    command = [sys.executable, "-m", "ledger", "demo", "--out", str(out), "--demo-db", str(tmp_path / "demo.duckdb")]
    done, seen = run_on_a_terminal(command, env={**os.environ, "COLUMNS": "100", "TERM": "xterm"}, timeout=600)
    assert done.stdout.decode() == f"{out / 'index.html'}\n"  # stdout: the page, nothing else
    assert b"writing the demo's history" in seen and b"scoring the demo and writing its site" in seen
    assert b"demo ledger: " in seen


def test_the_history_writes_the_records_it_always_wrote(monkeypatch, tmp_path):
    """Seed, day and question ids fixed: the history's chain head is the one the writes made before the
    Writer kept what it knows of each question in memory (one read of the questions view per write).
    How the writes are made may not change what they write; a change to the story changes this head."""
    import random
    import secrets
    from datetime import date

    from ledger.demo import SEED, _memory_store, _write_history, generate

    ids = random.Random(7)
    monkeypatch.setattr(secrets, "token_hex", lambda n: f"{ids.getrandbits(8 * n):0{2 * n}x}")
    with _memory_store(tmp_path / "demo.duckdb") as store:
        _write_history(store, generate(SEED, today=date(2026, 1, 1)), lambda n: None)
        assert store.head() == (781, "05eaf89f10ab967e6216b2499999d4189f5e90af8949610d45a10a216b5ca06c")
        assert store.verify().head == store.head()[1]  # and the chain verifies
