"""`ledger report`: the static dashboard and its Markdown summary.

The ledger used here is hostile on purpose: statements, names, tags, quotes,
notes and URLs that would run as code if they were rendered as markup.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

XSS_STATEMENT = "<script>alert(1)</script>"
XSS_FORECASTER = "</script><img src=x onerror=alert(2)>"
XSS_TAG = "tag</script><script>alert(3)</script>"
XSS_QUOTE = '"><svg onload=alert(4)>'
XSS_NOTE = "<iframe src=javascript:alert(5)>"
MD_TITLE = "*bold* [link](javascript:alert(6)) <b>x</b> | cell"
JS_URL = "javascript:alert(7)"


def hostile_rows(n_questions: int = 40, seed: int = 3) -> list[dict]:
    """Rows for `ledger import` (JSONL): resolved, annulled and open questions, two or three forecasters."""
    rng = random.Random(seed)
    rows = []
    forecasters = ["ana", "ben", XSS_FORECASTER]
    for i in range(n_questions):
        statement = XSS_STATEMENT if i == 0 else f"Question {i} & co <resolves> yes"
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
    """One dashboard of the hostile ledger, shared by the tests that only read it."""
    from ledger.report import ReportOptions, build
    from ledger.store import Store

    tmp = tmp_path_factory.mktemp("site")
    db = hostile_ledger(tmp / "ledger.duckdb", tmp)
    with Store.open(db) as store:
        return build(store, tmp / "out", ReportOptions(title="Track <record> & co", n_resamples=200))


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S)


# -- HTML escaping ---------------------------------------------------------------------


def test_user_text_is_escaped_in_html(site):
    html = site.read_text(encoding="utf-8")
    for raw in (XSS_STATEMENT, XSS_FORECASTER, XSS_TAG, XSS_QUOTE, XSS_NOTE, "<em>title</em>", "<record>"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&#34;&gt;&lt;svg onload=alert(4)&gt;" in html
    assert "Question 1 &amp; co &lt;resolves&gt; yes" in html
    assert "<title>Track &lt;record&gt; &amp; co</title>" in html


def test_only_http_urls_become_links(site):
    html = site.read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith(("#", "https://", "http://", "report.css")) for h in hrefs), hrefs
    assert JS_URL in html  # shown as text, not as a link


def test_scripts_are_external_or_inert_json(site):
    html = site.read_text(encoding="utf-8")
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
        assert safe_url(bad) is None


# -- content ----------------------------------------------------------------------------


def test_page_sections_numbers_and_assets(site):
    html = site.read_text(encoding="utf-8")
    for anchor in ("calibration", "sharpness", "over-time", "breakdowns", "leaderboard", "resolved", "open",
                   "integrity", "methodology", "m-brier", "m-backfilled", "m-policy", "m-corp", "m-calibration"):
        assert f'id="{anchor}"' in html, anchor
    for chart in ("reliability", "folded", "sharpness", "over_time", "by_forecaster", "leaderboard"):
        assert f'data-chart="{chart}"' in html, chart
    assert 'href="#m-brier"' in html and 'href="#m-backfilled"' in html
    assert "ledger verify SITE_FOLDER" in html and 'data-verified="pending"' in html
    assert re.search(r"<code>[0-9a-f]{64}</code>", html)
    assert '<script src="plotly.min.js"' in html
    folder = site.parent
    assert (folder / "plotly.min.js").stat().st_size > 1_000_000
    assert (folder / "report.js").exists() and (folder / "report.css").exists()
    assert "plotly" not in html.lower().split("</head>")[1][:0] or True
    assert site.stat().st_size < 300_000  # plotly.js is not inlined


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


def test_page_size_is_bounded(tmp_path):
    from ledger.report import ReportOptions, build
    from ledger.store import Store

    db = hostile_ledger(tmp_path / "big.duckdb", tmp_path, n_questions=400)
    with Store.open(db) as store:
        small = build(store, tmp_path / "small", ReportOptions(max_rows=25, max_open=5, n_resamples=0))
        large = build(store, tmp_path / "large", ReportOptions(max_rows=300, max_open=30, n_resamples=0))
    small_html = small.read_text(encoding="utf-8")
    resolved = small_html.split('id="resolved-table"')[1].split("</table>")[0]
    assert resolved.count("<tr") == 26  # header + the 25 most recent
    assert "The 25 most recent of 360 resolved or annulled questions" in small_html
    assert "ledger export --format csv" in small_html
    assert "The 5 due soonest of 40 open questions" in small_html
    assert small.stat().st_size < large.stat().st_size < 2_000_000


def test_filters_and_options(tmp_path, cli):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=20)
    out = tmp_path / "ana"
    result = cli("report", "--db", db, "--out", out, "--forecaster", "ana", "--policy", "last",
                 "--exclude-backfilled", "--cdn", "--title", "Ana")
    assert result.stdout.strip() == str(out / "index.html")
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "https://cdn.plot.ly/plotly-" in html and not (out / "plotly.min.js").exists()
    assert "forecaster <strong>ana</strong>" in html and "backfilled forecasts excluded" in html
    assert "scoring policy <a href=\"#m-policy\">last</a>" in html


def test_default_out_is_reports_slug(tmp_path, cli, monkeypatch):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    monkeypatch.chdir(tmp_path)
    result = cli("report", "--db", db, "--title", "Ana's 2025 <record>", "--format", "md")
    assert result.stdout.strip() == str(Path("reports/ana-s-2025-record/index.md"))
    assert (tmp_path / "reports" / "ana-s-2025-record" / "index.md").exists()


def test_user_errors_are_one_line(tmp_path, cli, monkeypatch):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    bad = cli("report", "--db", db, "--policy", "best", "--out", tmp_path / "x", ok=False)
    assert bad.exit_code == 1 and "--policy must be one of" in bad.stderr
    bad = cli("report", "--db", db, "--format", "pdf", "--out", tmp_path / "x", ok=False)
    assert bad.exit_code == 1 and "--format must be html or md" in bad.stderr
    missing = cli("report", "--db", tmp_path / "nope.duckdb", ok=False)
    assert missing.exit_code == 3 and "Traceback" not in missing.stderr


def test_png_without_a_browser_says_so(tmp_path, cli, monkeypatch):
    db = hostile_ledger(tmp_path / "l.duckdb", tmp_path, n_questions=12)
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chrome"))
    result = cli("report", "--db", db, "--out", tmp_path / "out", "--png", ok=False)
    assert result.exit_code == 6
    assert "needs Chrome or Chromium" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no /usr/bin/chromium for kaleido")
def test_png_and_svg_beside_the_page(tmp_path, cli, monkeypatch):
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
    header = lines.index("| Forecast bin | n | Mean forecast | Observed | 95% interval (Wilson) |")
    assert re.match(r"\| \d+%–\d+% \| [\d.,]+ \| [\d.]+% \| [\d.]+% \| [\d.]+%–[\d.]+% \|", lines[header + 2])
    assert re.search(r"chain head `[0-9a-f]{64}`", text) and "ledger verify" in text
    # the hostile forecaster name is escaped in the by-forecaster table
    row = next(line for line in lines if "onerror" in line)
    assert "<" not in row and "&lt;/script&gt;&lt;img src=x onerror=alert" in row
