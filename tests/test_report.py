"""`ledger report`: the static site (overview, forecaster and question pages) and its Markdown summary.

The ledger used here is hostile on purpose: statements, names, tags, quotes,
notes and URLs that would run as code if they were rendered as markup, and a
right-to-left override that would reorder the text around it.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

XSS_STATEMENT = "<script>alert(1)</script>"
XSS_FORECASTER = "</script><img src=x onerror=alert(2)>"
XSS_TAG = "tag</script><script>alert(3)</script>"
XSS_QUOTE = '"><svg onload=alert(4)>'
XSS_NOTE = "<iframe src=javascript:alert(5)>"
MD_TITLE = "*bold* [link](javascript:alert(6)) <b>x</b> | cell"
JS_URL = "javascript:alert(7)"
BIDI_STATEMENT = "Report \u202egnp.exe\u202c ships"  # reads "exe.png" if the override leaks


def hostile_rows(n_questions: int = 40, seed: int = 3) -> list[dict]:
    """Rows for `ledger import` (JSONL): resolved, annulled and open questions, two or three forecasters."""
    rng = random.Random(seed)
    rows = []
    forecasters = ["ana", "ben", XSS_FORECASTER]
    for i in range(n_questions):
        statement = XSS_STATEMENT if i == 0 else BIDI_STATEMENT if i == 1 else f"Question {i} & co <resolves> yes"
        state = "open" if i % 10 == 9 else "annulled" if i % 13 == 12 else "resolved"
        outcome = {"open": None, "annulled": "annulled"}.get(state, rng.choice(["yes", "no"]))
        for forecaster in forecasters[: 2 + (i % 2)]:
            rows.append({
                "question_key": f"q{i}", "statement": statement, "probability": round(rng.uniform(0.05, 0.95), 2),
                "resolve_by": "2030-12-31" if state == "open" else f"2025-{1 + i % 12:02d}-28",
                "forecaster": forecaster, "made_at": f"2024-{1 + i % 12:02d}-01T10:00:00",
                "outcome": outcome,
                "resolved_at": None if state == "open" else f"2025-{1 + i % 12:02d}-28T12:00:00",
                "resolution_note": XSS_NOTE if state != "open" else None,
                "evidence": JS_URL if i == 0 else "https://example.org/evidence",
                "tags": [XSS_TAG, "plain"] if i % 2 else ["plain"],
                "source_title": "Source <em>title</em>", "source_url": JS_URL if i == 0 else "https://example.org/a",
                "source_author": "author", "quote": XSS_QUOTE,
            })
    return rows


def hostile_ledger(path: Path, tmp: Path, n_questions: int = 40) -> Path:
    """Import the hostile rows into a fresh ledger at ``path``."""
    from ledger.io import import_file
    from ledger.store import Store

    jsonl = tmp / f"hostile-{n_questions}.jsonl"
    jsonl.write_text("\n".join(json.dumps(row) for row in hostile_rows(n_questions)) + "\n", encoding="utf-8")
    with Store.open(path) as store:
        import_file(store, jsonl)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """One site of the hostile ledger, shared by the tests that only read it: its index.html."""
    from ledger.report import ReportOptions, build
    from ledger.store import Store

    tmp = tmp_path_factory.mktemp("site")
    db = hostile_ledger(tmp / "ledger.duckdb", tmp)
    with Store.open(db) as store:
        return build(store, tmp / "out", ReportOptions(title="Track <record> & co", n_resamples=200))


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S)


# -- HTML escaping ---------------------------------------------------------------------


def _pages(site: Path) -> list[Path]:
    return [site, *sorted((site.parent / "f").glob("*.html")), *sorted((site.parent / "q").glob("*.html"))]


def test_site_has_a_page_per_forecaster_and_question(site):
    folder = site.parent
    from ledger.store import Store

    with Store.open(folder.parent / "ledger.duckdb", create=False, read_only=True) as store:
        ids = {row.id for row in store.questions(status="all")}
    # a page per id prefix, each question a section of it: q/<first three characters>.html#<id>
    assert {p.stem for p in (folder / "q").glob("*.html")} == {i[:3] for i in ids}
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    for i in ids:
        page = (folder / "q" / f"{i[:3]}.html").read_text(encoding="utf-8")
        assert page.count(f'<section class="question" id="{i}"') == 1
    people = sorted(p.name for p in (folder / "f").glob("*.html"))
    assert people == ["ana.html", "ben.html", "script-img-src-x-onerror-alert-2.html"]
    index = site.read_text(encoding="utf-8")
    for person in people:
        assert f'href="f/{person}"' in index
    rows = _rows(folder)
    assert {row["id"] for row in rows} == ids
    ana = (folder / "f" / "ana.html").read_text(encoding="utf-8")
    assert "Track record of <bdi>ana</bdi>" in ana and 'data-forecaster="ana"' in ana
    assert 'src="../data/questions.js"' in ana and 'href="../report.css"' in ana


def question_section(folder: Path, question_id: str) -> str:
    """A question's section of its page, q/<prefix>.html#<id>."""
    page = (folder / "q" / f"{question_id[:3]}.html").read_text(encoding="utf-8")
    start = page.index(f'<section class="question" id="{question_id}"')
    return page[start:page.index("</section>", start)]


def _rows(folder: Path) -> list[dict]:
    text = (folder / "data" / "questions.js").read_text(encoding="utf-8")
    assert text.startswith("window.LEDGER_ROWS = ") and text.endswith(";\n")
    return json.loads(text.removeprefix("window.LEDGER_ROWS = ").removesuffix(";\n"))


def test_user_text_is_escaped_in_html(site):
    for page in _pages(site):
        html = page.read_text(encoding="utf-8")
        for raw in (XSS_STATEMENT, XSS_FORECASTER, XSS_TAG, XSS_QUOTE, XSS_NOTE, "<em>title</em>", "<record>"):
            assert raw not in html, (page, raw)
    html = site.read_text(encoding="utf-8")
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<title>\u2068Track &lt;record&gt; &amp; co\u2069</title>" in html
    first = next(q for q in _pages(site) if "alert(1)" in q.read_text(encoding="utf-8") and "/q/" in q.as_posix())
    page = first.read_text(encoding="utf-8")
    assert '"><bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi></h2>' in page
    assert "&#34;&gt;&lt;svg onload=alert(4)&gt;" in page and "&lt;iframe src=javascript:alert(5)&gt;" in page


def test_side_file_is_data_only(site):
    text = (site.parent / "data" / "questions.js").read_text(encoding="utf-8")
    assert "<" not in text and ">" not in text and "\u2028" not in text  # nothing that could close a tag
    statements = {row["s"] for row in _rows(site.parent)}
    assert XSS_STATEMENT in statements and BIDI_STATEMENT in statements  # the data keeps what the user gave


def test_bidi_text_is_isolated(site):
    page = next(p for p in (site.parent / "q").glob("*.html") if "\u202e" in p.read_text(encoding="utf-8"))
    html = page.read_text(encoding="utf-8")
    title, body = html.split("</title>")
    assert "\u202e" not in title  # a question page's title names its id prefix, no user text
    for match in re.finditer("\u202e", body):
        before = body[: match.start()]
        assert before.rfind("<bdi>") > before.rfind("</bdi>"), "the override is outside a <bdi>"
    css = (site.parent / "report.css").read_text(encoding="utf-8")
    assert re.search(r"bdi, \.stmt[^{]*\{ unicode-bidi: isolate; \}", css)


def test_only_http_urls_become_links(site):
    for page in _pages(site):
        html = page.read_text(encoding="utf-8")
        hrefs = re.findall(r'href="([^"]*)"', html)
        local = ("#", "index.html", "f/", "q/", "report.css", "../index.html", "../f/", "../report.css")
        assert hrefs and all(h.startswith(("https://", "http://", *local)) for h in hrefs), (page, hrefs)
    question = next(p for p in (site.parent / "q").glob("*.html") if "alert(7)" in p.read_text(encoding="utf-8"))
    assert JS_URL in question.read_text(encoding="utf-8")  # shown as text, not as a link


def test_scripts_are_external_or_inert_json(site):
    for page in _pages(site):
        html = page.read_text(encoding="utf-8")
        tags = re.findall(r"<script\b[^>]*>", html)
        assert all('type="application/json"' in t or " src=" in t for t in tags), tags
        for body in _scripts(html):
            if body.strip():
                assert "<" not in body and ">" not in body  # nothing can close the block or open a tag
                json.loads(body)
        assert "Content-Security-Policy" in html and "'unsafe-inline'" not in html.split("script-src")[1].split(";")[0]


def test_chart_json_escapes_user_text(site):
    html = site.read_text(encoding="utf-8")
    charts = [json.loads(body) for body in _scripts(html) if body.strip()]
    labels = [y for chart in charts for trace in chart["data"] for y in (trace.get("y") or []) if isinstance(y, str)]
    # plotly reads tags in labels, so names are entity-escaped before they go into the JSON
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in labels


def test_script_json_cannot_close_the_block():
    from ledger.report import script_json

    text = script_json({"a": "</script><script>alert(1)</script>", "b": "<!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><script>alert(1)</script>", "b": "<!-- & \u2028"}


def test_safe_url():
    from ledger.report import safe_url

    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in (JS_URL, "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil", 'https://x.org/"onmouseover=', None, ""):
        assert safe_url(bad) is None, bad


# -- What the pages say ----------------------------------------------------------------


def test_page_sections_numbers_and_assets(site):
    html = site.read_text(encoding="utf-8")
    for anchor in ("calibration", "calibration-details", "sharpness", "over-time", "breakdowns", "leaderboard",
                   "resolved", "open", "integrity", "methodology", "m-brier", "m-backfilled", "m-policy", "m-corp"):
        assert f'id="{anchor}"' in html, anchor
    for chart in ("reliability", "folded", "sharpness", "over_time", "by_forecaster", "leaderboard"):
        assert f'data-chart="{chart}"' in html, chart
    assert 'href="#m-brier"' in html and 'href="#m-backfilled"' in html
    assert "ledger verify SITE_FOLDER" in html and 'data-verified="pending"' in html
    assert re.search(r"<code>[0-9a-f]{64}</code>", html)
    assert 'type="search"' in html and html.count('class="finder"') == 2
    folder = site.parent
    plotly = next((folder / "assets").glob("plotly-*.min.js"))
    assert plotly.stat().st_size > 1_000_000 and f'<script src="assets/{plotly.name}"' in html
    assert f'<script src="../assets/{plotly.name}"' in (folder / "f" / "ana.html").read_text(encoding="utf-8")
    assert (folder / "report.js").exists() and (folder / "report.css").exists()
    assert site.stat().st_size < 300_000  # plotly.js is not inlined


def test_counts_are_integers_and_weights_labelled(site):
    html = site.read_text(encoding="utf-8")
    card = html.split('<span class="label">Resolved questions</span>')[1].split("</a>")[0]
    assert re.search(r'<span class="value">\d+</span>', card) and re.search(r"of \d+ questions", card)
    table = html.split("<caption>All forecasts</caption>")[1].split("</table>")[0]
    assert "<th scope=\"col\">Forecasts</th><th scope=\"col\">Weight</th>" in table
    forecasts = re.findall(r'<td data-label="Forecasts">([^<]*)</td>', table)
    assert forecasts and all(re.fullmatch(r"[\d,]+", n) for n in forecasts)  # whole forecasts
    assert "time-averaged weight" in html


def test_calibration_in_plain_words():
    from ledger.report.render import calibration_sentences
    from ledger.scoring import CalibrationBin

    rows = [CalibrationBin(**row) for row in [
        {"bin_low": 0.7, "bin_high": 0.8, "n_forecasts": 27, "n": 20.5, "mean_forecast": 0.74, "observed": 0.86,
         "ci_low": 0.76, "ci_high": 0.93},
        {"bin_low": 0.9, "bin_high": 1.0, "n_forecasts": 41, "n": 41, "mean_forecast": 0.95, "observed": 0.80,
         "ci_low": 0.66, "ci_high": 0.89},
        {"bin_low": 0.0, "bin_high": 0.1, "n_forecasts": 1, "n": 1, "mean_forecast": 0.05, "observed": 0.0,
         "ci_low": 0.0, "ci_high": 0.79},
        {"bin_low": 0.1, "bin_high": 0.2, "n_forecasts": 30, "n": 30, "mean_forecast": 0.15, "observed": 0.40,
         "ci_low": 0.25, "ci_high": 0.57},
        {"bin_low": 0.4, "bin_high": 0.5, "n_forecasts": 60, "n": 60, "mean_forecast": 0.43, "observed": 0.75,
         "ci_low": 0.63, "ci_high": 0.84},
    ]]
    said = calibration_sentences(rows)
    assert said[0]["text"] == "When this record said 70%–80%, it happened 86% of the time (27 forecasts)."
    assert [s["verdict"] for s in said] == ["under-confident", "over-confident", "calibrated", "over-confident",
                                            "wrong-side"]
    assert said[4]["why"] == "Leaned the wrong way: these forecasts said 43% on average, yet it happened most of the time."
    assert "1 forecast)" in said[2]["text"]


def test_small_sample_caveat_and_breakdown_order(tmp_path):
    from ledger.report import ReportOptions, build
    from ledger.store import Store

    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    with Store.open(db) as store:
        page = build(store, tmp_path / "out", ReportOptions(n_resamples=0))
    html = page.read_text(encoding="utf-8")
    assert 'id="small-sample"' in html and "too few to judge calibration" in html
    by_forecaster = html.split('id="by-forecaster"')[1].split("</table>")[0]
    counts = [int(n) for n in re.findall(r'<td data-label="Questions">(\d+)', by_forecaster)]
    assert len(counts) == 3 and counts == sorted(counts, reverse=True)  # most questions first
    assert "few</span>" in by_forecaster  # the third forecaster has under 10 questions


def test_question_page_shows_history(tmp_path, cli):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    from ledger.store import Store

    with Store.open(db) as store:
        qid = next(r.id for r in store.questions(status="resolved") if r.statement.startswith("Question 2 "))
    first = cli("show", qid, "--db", db, "--json").stdout
    outcome = json.loads(first)["resolution"]["outcome"]
    other = "no" if outcome == "yes" else "yes"
    cli("forecast", qid, "-p", "0.42", "-f", "ana", "--db", db, ok=False)  # after the outcome: kept, not scored
    cli("resolve", qid, other, "--note", "Correction: wrong report", "--db", db)
    cli("report", "--db", db, "--out", tmp_path / "site")
    html = question_section(tmp_path / "site", qid)
    assert html.count('<li class="superseded">') == 1 and html.count('<li class="current">') == 1
    assert 'class="badge">correction</span>' in html and "Correction: wrong report" in html
    assert re.search(r"<td data-label=\"Made\">\d{4}-\d\d-\d\d \d\d:\d\d UTC</td>", html)


def test_histories_in_one_read_match_each_question(tmp_path, cli):
    """The site reads every history at once (Store.histories): the same records, in the same order,
    as one Store.question per question, a correction, an annulment and an edit included."""
    from ledger.store import Store

    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    with Store.open(db) as store:
        resolved = [r.id for r in store.questions(status="resolved")]
        was = store.question(resolved[0]).resolution.outcome
    cli("resolve", resolved[0], "no" if was == "yes" else "yes", "--note", "a correction", "--db", db)
    cli("annul", resolved[1], "--reason", "retracted", "--force", "--db", db)
    cli("edit", resolved[2], "--criteria", "clearer criteria", "--reason", "typo", "--db", db)
    with Store.open(db) as store:
        for filters in ({}, {"tag": "plain"}, {"forecaster": "ana"}, {"tag": XSS_TAG, "forecaster": "ben"}):
            listed = store.questions(status="all", **filters)
            together = store.histories(**filters)
            assert [q.id for q in together] == [q.id for q in listed], filters
            assert together == [store.question(q.id) for q in listed], filters
        histories = {q.id: q for q in store.histories()}
    assert histories[resolved[0]].corrected_from == was and len(histories[resolved[1]].resolutions) == 2
    assert histories[resolved[2]].edits[0].reason == "typo"


def test_report_numbers_come_from_scoring(tmp_path):
    from ledger.report import ReportOptions, collect
    from ledger.scoring import score
    from ledger.store import Store

    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=20)
    with Store.open(db) as store:
        data = collect(store, ReportOptions(n_resamples=50))
        direct = score(store, n_resamples=50)
    for key in ("brier", "log_loss", "base_rate", "brier_skill_vs_half", "n_backfilled", "brier_ci"):
        assert getattr(data["score"], key) == getattr(direct, key), key
    assert data["status"] == {"resolved": 17, "open": 2, "due": 0, "annulled": 1}


def _bytes_a_question(page: Path) -> float:
    html = page.read_text(encoding="utf-8")
    return len(html.encode("utf-8")) / html.count('<section class="question"')


def test_page_size_does_not_grow_with_the_ledger(tmp_path):
    from ledger.report import ReportOptions, build
    from ledger.store import Store

    sizes = {}
    for n in (40, 400):
        db = hostile_ledger(tmp_path / f"l{n}.duckdb", tmp_path, n_questions=n)
        with Store.open(db) as store:
            page = build(store, tmp_path / f"site{n}", ReportOptions(n_resamples=0))
        sizes[n] = (page.stat().st_size, (page.parent / "data" / "questions.js").stat().st_size,
                    max(_bytes_a_question(p) for p in (page.parent / "q").glob("*.html")))
    (small, small_data, small_q), (large, large_data, large_q) = sizes[40], sizes[400]
    assert large < small * 1.25  # ten times the questions, about the same page
    assert large_q < small_q * 1.25  # a question page grows by its questions only, not by the ledger
    assert large_data > small_data * 8  # the rows live in the side file


def test_filters_and_options(tmp_path, cli):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=20)
    out = tmp_path / "ana"
    result = cli("report", "--db", db, "--out", out, "--forecaster", "ana", "--policy", "last",
                 "--exclude-backfilled", "--cdn", "--title", "Ana")
    assert result.stdout.strip() == str(out / "index.html")
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "https://cdn.plot.ly/plotly-" in html and not (out / "assets").exists()
    assert "forecaster <strong><bdi>ana</bdi></strong>" in html and "backfilled forecasts excluded" in html
    assert "scoring policy <a href=\"#m-policy\">last</a>" in html
    assert [p.name for p in (out / "f").glob("*.html")] == ["ana.html"]


def test_unknown_forecaster_or_tag_is_refused(tmp_path, cli):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    before = db.read_bytes()
    bad = cli("report", "--db", db, "--forecaster", "nosuch", "--out", tmp_path / "x", ok=False)
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1
    assert "no forecaster 'nosuch'" in bad.stderr and "known: </script><img" in bad.stderr
    assert "ana, ben" in bad.stderr
    bad = cli("report", "--db", db, "--tag", "nosuch", "--format", "md", "--out", tmp_path / "x", ok=False)
    assert bad.exit_code == 1 and "known: plain, tag</script>" in bad.stderr
    assert not (tmp_path / "x").exists() and db.read_bytes() == before


def test_default_out_is_the_project_reports_folder(tmp_path, cli, monkeypatch):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    project = tmp_path / "project"
    (project / "predictions").mkdir(parents=True)
    (project / "notes").mkdir()
    monkeypatch.chdir(project / "notes")  # anywhere inside the project
    result = cli("report", "--db", db, "--title", "Ana's 2025 <record>", "--format", "md")
    assert (project / "reports" / "ana-s-2025-record" / "index.md").exists()
    assert result.stdout.strip() == str(project / "reports" / "ana-s-2025-record" / "index.md")
    assert "wrote the report into" in result.stderr
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    result = cli("report", "--db", db, "--title", "Ana")
    data_reports = tmp_path / "home" / "data" / "forecast-ledger" / "reports"
    assert result.stdout.strip() == str(data_reports / "ana" / "index.html")
    assert str(data_reports / "ana") in result.stderr
    plotly = list((data_reports / "assets").glob("plotly-*.min.js"))  # one copy for the reports root
    cli("report", "--db", db, "--title", "Ben")
    assert list((data_reports / "assets").glob("plotly-*.min.js")) == plotly
    assert not list((data_reports / "ben").rglob("plotly*"))
    assert not list(outside.iterdir())


def test_user_errors_are_one_line(tmp_path, cli, monkeypatch):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    bad = cli("report", "--db", db, "--policy", "best", "--out", tmp_path / "x", ok=False)
    assert bad.exit_code == 1 and "--policy must be one of" in bad.stderr
    bad = cli("report", "--db", db, "--format", "pdf", "--out", tmp_path / "x", ok=False)
    assert bad.exit_code == 1 and "--format must be html or md" in bad.stderr
    missing = cli("report", "--db", tmp_path / "nope.duckdb", ok=False)
    assert missing.exit_code == 3 and "Traceback" not in missing.stderr


# -- The report folder is the report's own -------------------------------------------------


def test_out_root_is_refused(tmp_path, cli):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    bad = cli("report", "--db", db, "--out", "/", ok=False)
    assert bad.exit_code == 1 and "refusing to write a report into /" in bad.stderr
    assert not Path("/index.html").exists()


def test_foreign_folder_and_files_are_refused(tmp_path, cli):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "index.html").write_text("my own page", encoding="utf-8")
    bad = cli("report", "--db", db, "--out", foreign, ok=False)
    assert bad.exit_code == 1 and "is not empty and is not a report folder of ours" in bad.stderr
    assert (foreign / "index.html").read_text(encoding="utf-8") == "my own page"
    assert sorted(p.name for p in foreign.iterdir()) == ["index.html"]
    # an earlier report of ours is rewritten, but a file someone put in it is not
    out = tmp_path / "site"
    cli("report", "--db", db, "--out", out)
    (out / "notes.html").write_text("notes", encoding="utf-8")
    cli("report", "--db", db, "--out", out)
    assert (out / "notes.html").read_text(encoding="utf-8") == "notes"
    (out / "report.css").unlink()
    (out / "report.css").write_text("mine", encoding="utf-8")  # still listed as ours: rewritten
    cli("report", "--db", db, "--out", out)
    assert (out / "report.css").read_text(encoding="utf-8") != "mine"
    forced = cli("report", "--db", db, "--out", foreign, "--force")
    assert forced.exit_code == 0 and "Forecast track record" in (foreign / "index.html").read_text(encoding="utf-8")


def test_symlinks_out_of_the_folder_are_refused(tmp_path, cli):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    out = tmp_path / "site"
    cli("report", "--db", db, "--out", out)
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.html"
    victim.write_text("keep me", encoding="utf-8")
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(victim)
    bad = cli("report", "--db", db, "--out", out, ok=False)
    assert bad.exit_code == 1 and "is a symbolic link" in bad.stderr
    assert victim.read_text(encoding="utf-8") == "keep me"
    (out / "index.html").unlink()
    shutil.rmtree(out / "q")
    (out / "q").symlink_to(outside, target_is_directory=True)
    bad = cli("report", "--db", db, "--out", out, ok=False)
    assert bad.exit_code == 1 and "is a symbolic link" in bad.stderr
    assert sorted(p.name for p in outside.iterdir()) == ["victim.html"]
    link = tmp_path / "link"
    link.symlink_to(outside, target_is_directory=True)
    bad = cli("report", "--db", db, "--out", link, ok=False)
    assert bad.exit_code == 1 and sorted(p.name for p in outside.iterdir()) == ["victim.html"]


def test_kill_during_write_never_leaves_a_broken_page(tmp_path):
    """kill -9 at many moments of a rewrite: index.html is always a whole page, old or new."""
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=60)
    out = tmp_path / "site"
    script = ("import sys; from ledger.report import ReportOptions, build; from ledger.store import Store\n"
              "with Store.open(sys.argv[1], create=False, read_only=True) as s:\n"
              "    build(s, sys.argv[2], ReportOptions(n_resamples=0, title=sys.argv[3]))\n")
    subprocess.run([sys.executable, "-c", script, db, out, "first"], check=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", script, db, out, "timing"], check=True)
    duration = time.monotonic() - started
    for i in range(8):
        process = subprocess.Popen([sys.executable, "-c", script, db, out, f"run {i}"])
        time.sleep(duration * (0.35 + 0.6 * i / 8))
        process.send_signal(signal.SIGKILL)
        process.wait()
        for page in (out / "index.html", *sorted((out / "q").glob("*.html"))[:5]):
            text = page.read_text(encoding="utf-8")
            assert text.rstrip().endswith("</html>"), f"{page} was left half-written after kill {i}"


def test_png_without_a_browser_says_so(tmp_path, cli, monkeypatch):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chrome"))
    result = cli("report", "--db", db, "--out", tmp_path / "out", "--png", ok=False)
    assert result.exit_code == 6
    assert "needs Chrome or Chromium" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def network_watch(monkeypatch):
    """Every HTTP(S) request of a child browser goes to a local proxy that notes and drops it. (Offline,
    kaleido's render page waited on MathJax from a CDN at every load: on a network that hangs rather than
    refuses, each image took the network's timeout, and the PNG test timed out under load.)"""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    asked = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            asked.append(connection.recv(200).split(b"\r\n")[0].decode("latin-1"))
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.setenv("no_proxy", "")
    yield asked
    listener.close()


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no /usr/bin/chromium for kaleido")
def test_png_and_svg_beside_the_page(tmp_path, cli, monkeypatch, network_watch):
    pytest.importorskip("kaleido")
    from ledger.report import ReportOptions, build
    from ledger.store import Store

    monkeypatch.setenv("BROWSER_PATH", "/usr/bin/chromium")
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    with Store.open(db) as store:
        page = build(store, tmp_path / "out", ReportOptions(png=True, n_resamples=0))
    png = page.parent / "reliability.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    svg = (page.parent / "reliability.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg") and "<script" not in svg
    # drawn offline: the render page fetched no script (the browser's own housekeeping requests aside)
    assert [asked for asked in network_watch if "cdnjs.cloudflare.com" in asked or "cdn.plot.ly" in asked] == []


# -- Markdown --------------------------------------------------------------------------------


def test_markdown_summary(tmp_path, cli):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=30)
    out = tmp_path / "md"
    result = cli("report", "--db", db, "--out", out, "--format", "md", "--title", MD_TITLE)
    page = Path(result.stdout.strip())
    assert page == out / "index.md" and not (out / "index.html").exists()
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines()
    # the title is text: no emphasis, link, raw HTML or table cell break survives
    assert lines[0].startswith("# ")
    assert "<b>" not in text and "[link](" not in text and "*bold*" not in text
    assert "\\*bold\\*" in lines[0] and "\\[link\\]" in lines[0]
    assert "&lt;b&gt;" in lines[0] and "\\|" in lines[0]
    assert "| Questions resolved / open / annulled | 25 / 3 / 2 |" in text
    assert re.search(r"\| Brier score .*\| 0\.\d{3} \(95% interval 0\.\d{3} to 0\.\d{3}\) \|", text)
    assert "## Calibration" in text and "## Calibration, analyst view (folded)" in text
    header = lines.index("| Forecast bin | Forecasts | Mean forecast | Observed | 95% interval (Wilson) |")
    assert re.match(r"\| \d+%–\d+% \| [\d,]+ \| [\d.]+% \| [\d.]+% \| [\d.]+%–[\d.]+% \|", lines[header + 2])
    assert re.search(r"chain head `[0-9a-f]{64}`", text) and "ledger verify" in text
    # the hostile forecaster name is escaped in the by-forecaster table
    row = next(line for line in lines if "onerror" in line)
    assert "<" not in row and "&lt;/script&gt;&lt;img src=x onerror=alert" in row


def test_markdown_shows_retractions_and_corrections(tmp_path, cli):
    from ledger.format import short_id
    from ledger.store import Store

    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    with Store.open(db) as store:
        resolved = store.questions(status="resolved")
    corrected, retracted = resolved[0], resolved[1]
    was = corrected.resolution.outcome
    now = "no" if was == "yes" else "yes"
    cli("resolve", corrected.id, now, "--note", "wrong report", "--db", db)
    cli("annul", retracted.id, "--reason", "criteria never defined", "--force", "--db", db)
    text = Path(cli("report", "--db", db, "--out", tmp_path / "md", "--format", "md").stdout.strip()).read_text()
    assert re.search(r"\| Retracted \(annulled after their outcome\) \| 1: Brier 0\.\d{3} had they counted \|", text)
    assert "| Outcomes corrected (retractions included) | 2 |" in text
    rows = text[text.index("## Corrections and retractions"):].splitlines()
    assert any(f"`{short_id(corrected.id)}` | corrected to {now} | {was} |" in row for row in rows), rows
    assert any(f"`{short_id(retracted.id)}` | retracted (annulled) | {retracted.resolution.outcome} |" in row for row in rows)


def test_question_histories_come_in_batches_in_the_site_order(tmp_path):
    """The site writes question pages a batch of histories at a time (bounded memory at 1M forecasts)."""
    from ledger.store import Store

    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    with Store.open(db) as store:
        batches = list(store.history_batches(size=5))
        every = store.histories()
        tagged = [q for batch in store.history_batches(tag=XSS_TAG, size=2) for q in batch]
        assert tagged == store.histories(tag=XSS_TAG) and 0 < len(tagged) < 12
    assert [len(b) for b in batches] == [5] * (len(every) // 5) + ([len(every) % 5] if len(every) % 5 else [])
    assert [q for batch in batches for q in batch] == every and len(every) > 5


# -- progress -------------------------------------------------------------------


def _report_command(tmp_path) -> tuple[list[str], dict]:
    """`ledger report` of a small hostile ledger as a whole process (stderr a terminal or a pipe)."""
    import os

    db = hostile_ledger(tmp_path / "ledger.duckdb", tmp_path, n_questions=12)
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    return [sys.executable, "-m", "ledger", "report", "--db", str(db), "--out", str(tmp_path / "out"), "--cdn"], env


def test_a_terminal_sees_the_report_progress(tmp_path):
    from tests.terminal import run_on_a_terminal

    command, env = _report_command(tmp_path)
    done, seen = run_on_a_terminal(command, env=env, timeout=300)
    assert done.stdout.decode().strip().endswith("index.html")
    assert b"writing the report" in seen and b"wrote the report into" in seen


def test_a_pipe_gets_no_report_progress(tmp_path):
    command, env = _report_command(tmp_path)
    done = subprocess.run(command, capture_output=True, env=env, check=True, timeout=300)
    assert done.stderr.decode().splitlines() == [f"wrote the report into {tmp_path / 'out'}/"]


def test_the_report_counts_every_step(tmp_path):
    from ledger.report import ReportOptions, build, site_steps
    from ledger.store import Store

    db = hostile_ledger(tmp_path / "ledger.duckdb", tmp_path, n_questions=12)
    with Store.open(db) as store:
        for options in (ReportOptions(n_resamples=0, cdn=True), ReportOptions(fmt="md", n_resamples=0)):
            steps: list[int] = []
            build(store, tmp_path / options.fmt, options, on_progress=steps.append)
            # html: the overview's and three forecasters' scoring passes, 12 question pages, the records
            assert sum(steps) == site_steps(store, options) == (17 if options.fmt == "html" else 1)


# -- question pages rendered again only when they change ---------------------------


def test_only_changed_question_pages_are_written_again(tmp_path, cli):
    from ledger.store import Store

    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    site = tmp_path / "site"
    cli("report", "--db", db, "--out", site, "--cdn")
    pages = {p.name: p.stat().st_mtime_ns for p in (site / "q").glob("*.html")}
    with Store.open(db) as store:
        changed = next(r.id for r in store.questions(status="open"))
    cli("forecast", changed, "-p", "0.42", "-f", "ana", "--db", db)
    page = f"{changed[:3]}.html"
    edited = sorted(pages)[0] if sorted(pages)[0] != page else sorted(pages)[1]
    (site / "q" / edited).write_text("edited by hand", encoding="utf-8")  # ours by the marker, yet not as we left it
    cli("report", "--db", db, "--out", site, "--cdn")
    again = {p.name: p.stat().st_mtime_ns for p in (site / "q").glob("*.html")}
    rewritten = {name for name in pages if again[name] != pages[name]}
    assert rewritten == {page, edited}
    assert "42%" in question_section(site, changed)
    assert "edited by hand" not in (site / "q" / edited).read_text(encoding="utf-8")
    cli("report", "--db", db, "--out", site, "--cdn", "--title", "Another title")  # every page names the site
    assert all(p.stat().st_mtime_ns != again[p.name] for p in (site / "q").glob("*.html"))


def _site_files(folder: Path) -> dict[str, bytes]:
    """The question pages and the side file of a site: what a republish may reuse."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in [*sorted((folder / "q").glob("*.html")), folder / "data" / "questions.js"]}


def test_a_republish_reads_and_draws_only_the_pages_that_changed(tmp_path, cli, monkeypatch):
    """Nothing changed: no history is read, no question page nor the side file is written; one forecast
    more: only its page's histories are read, and the site is byte for byte what a fresh report gives."""
    from ledger.report import ReportOptions, build
    from ledger.store import Store

    asked: list = []
    real = Store.history_batches

    def history_batches(self, **kwargs):  # the real reads, with who asked for which pages written down
        asked.append(kwargs.get("prefixes"))
        return real(self, **kwargs)

    monkeypatch.setattr(Store, "history_batches", history_batches)
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=40)
    site, options = tmp_path / "site", ReportOptions(cdn=True, n_resamples=0)
    with Store.open(db) as store:
        build(store, site, options)
        pages = sorted(p.stem for p in (site / "q").glob("*.html"))
        assert asked == [pages] and len(pages) > 10
        changed = next(r.id for r in store.questions(status="open"))
    before = {p: (site / p).stat().st_mtime_ns for p in _site_files(site)}
    asked.clear()
    with Store.open(db) as store:
        build(store, site, options)
    assert asked == [] and {p: (site / p).stat().st_mtime_ns for p in before} == before
    cli("forecast", changed, "-p", "0.42", "-f", "ana", "--db", db)
    with Store.open(db) as store:
        build(store, site, options)
        assert asked == [[changed[:3]]]
        build(store, tmp_path / "fresh", options)
    assert _site_files(site) == _site_files(tmp_path / "fresh")
    assert "42%" in question_section(site, changed)
    assert {p for p in before if (site / p).stat().st_mtime_ns != before[p]} == {f"q/{changed[:3]}.html",
                                                                                 "data/questions.js"}


def test_a_republish_under_another_selection_draws_its_scores_again(tmp_path):
    """The same questions scored otherwise (backfilled forecasts left out) are other pages, though the
    questions, their records and the page around them are the same."""
    from ledger.report import ReportOptions, build
    from ledger.scoring import Selection
    from ledger.store import Store

    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    strict = ReportOptions(cdn=True, n_resamples=0, title="Same title", selection=Selection(exclude_backfilled=True))
    with Store.open(db) as store:
        build(store, tmp_path / "site", replace(strict, selection=Selection()))
        before = _site_files(tmp_path / "site")
        build(store, tmp_path / "site", strict)
        build(store, tmp_path / "fresh", strict)
    assert _site_files(tmp_path / "site") == _site_files(tmp_path / "fresh") != before


def test_a_report_remembers_its_verify_as_ledger_verify_does(tmp_path, cli, monkeypatch):
    """The report verifies the chain through ledger.verified: a later report or score of the unchanged file
    trusts that verify; a changed file is verified in full again (tests/test_honest_record.py: refused)."""
    from ledger.verified import entry_path

    monkeypatch.setattr("ledger.verified.SETTLED", 0.0)  # the file was written a moment ago
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    assert not entry_path(db).exists()
    cli("report", "--db", db, "--out", tmp_path / "site", "--cdn")
    remembered = json.loads(entry_path(db).read_text())
    assert remembered["path"] == str(db.resolve()) and remembered["records"] > 12


def test_an_edited_side_file_is_not_reused(tmp_path):
    """The rows an unchanged page takes from the earlier side file are trusted only while its digest is
    still the key it was written with: an edit of the same size and modification time is caught."""
    import os

    from ledger.report import ReportOptions, build
    from ledger.store import Store

    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    site, options = tmp_path / "site", ReportOptions(cdn=True, n_resamples=0)
    side = site / "data" / "questions.js"
    with Store.open(db) as store:
        build(store, site, options)
        honest = side.read_bytes()
        look = side.stat()
        side.write_bytes(honest.replace(b'"st":"resolved"', b'"st":"xesolved"', 1))
        os.utime(side, ns=(look.st_atime_ns, look.st_mtime_ns))
        assert side.read_bytes() != honest and side.stat().st_size == look.st_size
        build(store, site, options)
    assert side.read_bytes() == honest


def test_an_earlier_sites_question_pages_lead_to_their_new_place(tmp_path, cli):
    """A site published when each question had a page (q/<id>.html) keeps those addresses: each becomes a
    link (followed at once) to q/<prefix>.html#<id>; a prefix page left with no question is removed."""
    from ledger.report.folder import MARKER

    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    site = tmp_path / "site"
    cli("report", "--db", db, "--out", site, "--cdn")
    ids = [row["id"] for row in _rows(site)]
    marker = json.loads((site / MARKER).read_text(encoding="utf-8"))
    for i in ids:  # what the marker of an earlier report listed
        (site / "q" / f"{i}.html").write_text("<p>the old page</p>", encoding="utf-8")
    (site / "q" / "fff.html").write_text("<p>no question left here</p>", encoding="utf-8")
    marker["files"] += [f"q/{i}.html" for i in ids] + ["q/fff.html"]
    (site / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    assert not any(i.startswith("fff") for i in ids)
    cli("report", "--db", db, "--out", site, "--cdn")
    for i in ids:
        old = (site / "q" / f"{i}.html").read_text(encoding="utf-8")
        assert f'<meta http-equiv="refresh" content="0; url={i[:3]}.html#{i}">' in old and "the old page" not in old
        assert f'id="{i}"' in (site / "q" / f"{i[:3]}.html").read_text(encoding="utf-8")
    assert not (site / "q" / "fff.html").exists()
    assert "q/fff.html" not in json.loads((site / MARKER).read_text(encoding="utf-8"))["files"]


def test_question_sections_escape_as_the_templates_do():
    """The question sections are made without Jinja: their escaping is markupsafe's, character for character."""
    from markupsafe import escape

    from ledger.report.questions import _escape

    for text in (XSS_STATEMENT, XSS_FORECASTER, XSS_QUOTE, XSS_NOTE, BIDI_STATEMENT, JS_URL, "a & b's \"c\" <d>", ""):
        assert _escape(text) == str(escape(text))
    assert _escape(["a", "<b>"]) == str(escape(["a", "<b>"]))  # an edit's new tags: a list


def test_published_records_read_this_codes_views(tmp_path):
    """The records are streamed through a cursor of their own, which reads the views this code defines,
    not the copies in the file (which any DuckDB client can replace)."""
    import duckdb

    from ledger.store import Store

    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    with Store.open(db) as store:
        honest = list(store.published_records(tag="plain"))
    con = duckdb.connect(str(db))
    con.execute("CREATE OR REPLACE VIEW questions AS SELECT * FROM question_records WHERE false")
    con.close()
    with Store.open(db) as store:
        assert list(store.published_records(tag="plain", size=3)) == honest
    assert sum(text is not None for *_, text in honest) > 0


def _mixed_ledger(path: Path):
    """A ledger with every case a forecaster's part of the selection must score as its own selection:
    four forecasters joining late (imputed stretches) and revising, yes/no and multiple-choice
    questions, open and annulled ones, a correction and a retraction; backfilled forecasts (claiming
    an earlier moment, some after the resolve-by day or after the outcome), and live ones (made as
    they are logged, on questions resolved in a later commit)."""
    from datetime import datetime, timedelta

    from ledger.models import Forecast, Question, Resolution
    from ledger.store import Store

    rng = random.Random(13)
    names = ["ana", "ben", "cleo", "dev"]
    store = Store.open(path)
    later = []
    with store.write("test") as w:
        for i in range(48):
            choice, live = i % 4 == 2, i % 3 != 0
            options = ["red", "green", "blue"] if choice else None

            def forecast(who, days):  # live: made now
                made_at = None if live else datetime(2024, 1, 1) + timedelta(days=days)
                if choice:
                    p = [rng.random() + 0.05 for _ in options]
                    return Forecast(forecaster=who, probabilities=[x / sum(p) for x in p], made_at=made_at)
                return Forecast(forecaster=who, probability=round(rng.uniform(0.02, 0.98), 2), made_at=made_at)

            q = w.add_question(Question(statement=f"Question {i}", resolve_by="2024-02-15" if not live else "2099-12-31",
                                        options=options, tags=["even"] if i % 2 == 0 else ["odd", "x"]),
                               forecast(names[i % 4], i % 9))
            for who in rng.sample(names, rng.randint(1, 4)):
                for _ in range(rng.randint(1, 3)):
                    w.add_forecast(q, forecast(who, rng.uniform(0, 60)))
            outcome = rng.choice(options) if choice else rng.choice(["yes", "no"])
            resolved_at = None if live else datetime(2024, 1, 1) + timedelta(days=65)
            for who in [] if live else names:
                w.add_forecast(q, forecast(who, 70))  # after the outcome (day 65)
            if i % 7 == 1:
                continue  # open
            if i % 11 == 4:
                w.resolve(q, Resolution(annulled=True, note="criteria failed", resolved_at=resolved_at))
            elif not live:
                w.resolve(q, Resolution(outcome=outcome, resolved_at=resolved_at))
            else:
                later.append((q, outcome, options))
    with store.write("test") as w:
        for q, outcome, _ in later:
            w.resolve(q, Resolution(outcome=outcome))
    (corrected, outcome, options), (retracted, _, _) = later[0], later[1]
    with store.write("test") as w:
        w.resolve(corrected, Resolution(outcome=next(o for o in options or ["yes", "no"] if o != outcome)))
        w.resolve(retracted, Resolution(annulled=True, note="retracted"), force=True)
    return store


def _assert_close(shared, own, where="score"):
    """Equal, numbers to 1e-12 (the sums run over the same rows, so they are all but bit-identical)."""
    if isinstance(own, dict):
        assert shared.keys() == own.keys(), where
        for key in own:
            _assert_close(shared[key], own[key], f"{where}.{key}")
    elif isinstance(own, list | tuple):
        assert len(shared) == len(own), where
        for i, (a, b) in enumerate(zip(shared, own, strict=True)):
            _assert_close(a, b, f"{where}[{i}]")
    elif isinstance(own, float) and not isinstance(shared, bool):
        assert shared == pytest.approx(own, rel=0, abs=1e-12), where
    else:
        assert shared == own, where


@pytest.mark.parametrize("selection", [{}, {"policy": "first"}, {"policy": "last", "tag": "x"},
                                       {"exclude_backfilled": True}, {"since": date(2024, 3, 1)}])
def test_each_forecaster_scored_from_the_shared_selection_as_by_its_own(tmp_path, selection):
    """A site makes one selection and scores each forecaster's part of it (Scored.narrowed): every
    figure of every forecaster's record is what a selection of that forecaster alone gives, and so
    are the counts and the corrections beside it."""
    from ledger.report import ReportOptions, collect_site
    from datetime import date

    from ledger.scoring import Options, Selection, analyst_levels, score

    store = _mixed_ledger(tmp_path / "l.duckdb")
    try:
        options = ReportOptions(selection=Selection(**selection), n_resamples=30)
        site = collect_site(store, options)
        people = site["forecasters"]
        assert sorted(people) == ["ana", "ben", "cleo", "dev"]
        assert site["overview"]["score"].retractions.n == 1 and site["overview"]["corrections"]
        for name, record in people.items():
            alone = replace(options.selection, forecaster=name)
            own = score(store, alone, Options(groupings=("tag", "source"), max_groups=30, n_resamples=30,
                                              calibrations={"folded": analyst_levels(fold=True)}))
            assert own.n_questions > 0 and own.n_backfilled + own.excluded.backfilled > 0, name
            assert own.excluded.after_outcome > 0, name
            assert own.imputed_share or alone.policy != "time-averaged" or alone.exclude_backfilled, name
            _assert_close(record["score"].as_json(), own.as_json(), name)
            assert record["status"] == store.status_counts(tag=alone.tag, forecaster=name), name
            assert record["corrections"] == store.corrected(tag=alone.tag, forecaster=name), name
    finally:
        store.close()
