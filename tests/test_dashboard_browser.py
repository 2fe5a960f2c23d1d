"""The site in a real headless Chromium, with no network, at 1280 and 390 px.

Debian's `chromium` (installed by `.ci/run`) driven by playwright at the
system binary; playwright never downloads a browser here. Every request that
is not a local file is aborted and recorded, which proves the pages work
offline. Checks, for each page type (overview, forecaster, question) at both
widths: the charts render, no console errors, no sideways scroll, a
screenshot is not blank; the `<script>` statement shows as text and no dialog
fires; the search box and the filters change the visible rows; a question's
link opens its page; a forecaster's page shows only that forecaster; and
axe-core (installed from npm by `.ci/run` into `.ci/node`) finds no serious or
critical violation.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.test_report import BIDI_STATEMENT, XSS_FORECASTER, XSS_STATEMENT, hostile_ledger

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[1] / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
WIDTHS = (1280, 390)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt install chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    from ledger.report import ReportOptions, build
    from ledger.store import Store

    tmp = tmp_path_factory.mktemp("browser")
    db = hostile_ledger(tmp / "ledger.duckdb", tmp, n_questions=80)
    with Store.open(db) as store:
        amend(store)
        return build(store, tmp / "site", ReportOptions(n_resamples=100)).parent


CORRECTED, RETRACTED = "Question 4 & co <resolves> yes", "Question 6 & co <resolves> yes"


def amend(store) -> None:
    """Correct one outcome and retract another, as `ledger resolve` and `ledger annul --force` do."""
    from ledger.models import Resolution

    by_statement = {q.statement: q for q in store.questions(status="resolved")}
    corrected, retracted = by_statement[CORRECTED], by_statement[RETRACTED]
    with store.write("resolve") as writer:
        writer.resolve(corrected.id, Resolution(outcome="no" if corrected.resolution.outcome == "yes" else "yes",
                                                note="the first report was wrong"))
    with store.write("annul") as writer:
        writer.resolve(retracted.id, Resolution(annulled=True, note="criteria never defined"), force=True)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _pages(site: Path) -> dict[str, Path]:
    question = next(p for p in sorted((site / "q").glob("*.html")) if "Question 3 " in p.read_text(encoding="utf-8"))
    return {"overview": site / "index.html", "forecaster": site / "f" / "ana.html", "question": question}


def _open(browser, path: Path, width: int, *, bypass_csp: bool = False):
    page = browser.new_page(viewport={"width": width, "height": 900}, bypass_csp=bypass_csp)
    events = {"console": [], "dialogs": [], "blocked": [], "errors": []}
    page.on("console", lambda m: events["console"].append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: events["errors"].append(str(e)))

    def on_dialog(dialog):
        events["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def route(request_route):
        url = request_route.request.url
        if url.startswith("file://"):
            request_route.continue_()
        else:
            events["blocked"].append(url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_function(
        "document.querySelectorAll('figure.chart').length"
        " === document.querySelectorAll('figure.chart[data-rendered]').length"
        " && document.querySelectorAll('.finder').length === document.querySelectorAll('.finder[data-ready]').length",
        timeout=30_000,
    )
    return page, events


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", ["overview", "forecaster", "question"])
def test_every_page_renders_offline_and_fits(browser, site, tmp_path, kind, width):
    path = _pages(site)[kind]
    page, events = _open(browser, path, width)
    assert events["console"] == [] and events["errors"] == [] and events["dialogs"] == []
    assert events["blocked"] == []  # nothing asked for the network
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{kind} scrolls sideways by {overflow}px at {width}px"
    if kind != "question":
        charts = page.eval_on_selector_all(
            "figure.chart", "els => els.map(e => [e.dataset.chart, !!e.querySelector('svg.main-svg')])")
        assert len(charts) >= 5 and all(has_svg for _, has_svg in charts), charts
        assert page.locator(".modebar").count() == 0  # no toolbar over the chart titles
        assert page.locator("#resolved tbody tr").count() == 25  # one page of rows
    assert page.locator("script:not([src]):not([type='application/json'])").count() == 0
    assert page.locator("img").count() == 0  # the hostile <img onerror> stayed text
    shot = tmp_path / f"{kind}-{width}.png"
    page.screenshot(path=str(shot), full_page=False)
    _assert_not_blank(shot)
    page.close()


def test_search_filters_sort_and_pages_change_the_rows(browser, site):
    page, events = _open(browser, site / "index.html", 1280)
    rows = page.locator("#resolved tbody tr")
    statements = page.locator("#resolved tbody .stmt")
    total = page.locator("#resolved .count").inner_text()
    first_page = statements.all_inner_texts()
    page.click('#resolved [data-step="1"]')
    assert statements.all_inner_texts() != first_page and "page 2 of" in page.inner_text("#resolved .pager")
    page.fill("#resolved input[type=search]", "question 7")  # every word, anywhere in the statement
    found = statements.all_inner_texts()
    assert found and all("question" in s.lower() and "7" in s for s in found) and len(found) < 25
    assert page.locator("#resolved .count").inner_text() != total
    page.fill("#resolved input[type=search]", XSS_STATEMENT)
    assert statements.all_inner_texts() == [XSS_STATEMENT]  # shown as text
    page.fill("#resolved input[type=search]", "")
    page.select_option("#resolved select[name=forecaster]", XSS_FORECASTER)
    people = page.locator("#resolved tbody .forecasts").all_inner_texts()
    assert people and all(XSS_FORECASTER in cell for cell in people)
    page.select_option("#resolved select[name=forecaster]", "")
    page.select_option("#resolved select[name=outcome]", "annulled")
    assert {cell.splitlines()[0] for cell in page.locator("#resolved tbody td.outcome").all_inner_texts()} == {"annulled"}
    page.select_option("#resolved select[name=outcome]", "")
    page.fill("#resolved input[name=from]", "2025-06-01")
    dates = page.locator("#resolved tbody td:nth-child(4)").all_inner_texts()
    assert dates and all(d >= "2025-06-01" for d in dates)
    page.fill("#resolved input[name=from]", "")
    page.select_option("#resolved select[name=sort]", "at:asc")
    dates = page.locator("#resolved tbody td:nth-child(4)").all_inner_texts()
    assert dates == sorted(dates)
    page.select_option("#resolved select[name=tag]", "plain")
    assert rows.count() > 0
    assert events["console"] == [] and events["errors"] == []
    page.close()


def test_corrections_and_retractions_say_what_they_were(browser, site):
    """The resolved table says "corrected (was: …)" and "retracted (was: …)", as each question page does."""
    page, events = _open(browser, site / "index.html", 390)
    notes = {}
    for statement in (CORRECTED, RETRACTED):
        page.fill("#resolved input[type=search]", statement.split(" &")[0])
        row = page.locator("#resolved tbody tr").filter(has=page.get_by_text(statement, exact=True))
        notes[statement] = row.locator("td.outcome .corrected").inner_text()
        href = row.locator(".stmt a").get_attribute("href")
        file, question = href.split("#")
        on_its_page = (site / file).read_text(encoding="utf-8")
        section = on_its_page[on_its_page.index(f'id="{question}"'):]
        assert f"{notes[statement].split(' (')[0]} (was: <bdi>" in section[:section.index("</section>")]
    assert notes[CORRECTED] in ("corrected (was: yes)", "corrected (was: no)")
    assert notes[RETRACTED] in ("retracted (was: yes)", "retracted (was: no)")
    assert page.locator("#resolved tbody td.outcome .corrected").count() == 1  # only the searched row
    assert events["console"] == [] and events["errors"] == []
    page.close()


def test_a_question_link_opens_its_page(browser, site):
    page, _ = _open(browser, site / "index.html", 390)
    link = page.locator("#resolved tbody .stmt a").first
    statement, href = link.inner_text(), link.get_attribute("href")
    link.click()
    page.wait_for_load_state()
    assert page.url.endswith(href) and page.url.split("/")[-2] == "q"
    question = href.split("#")[1]  # the page of its id prefix, at its section
    assert page.locator("section.question:target").get_attribute("id") == question
    assert page.locator("section.question:target h2").inner_text() == statement
    page.close()
    bidi = next(p for p in (site / "q").glob("*.html") if "\u202e" in p.read_text(encoding="utf-8"))
    page, _ = _open(browser, bidi, 1280)
    heading = page.locator("section.question h2.stmt bdi").filter(has_text="\u202e")
    assert heading.inner_text() == BIDI_STATEMENT
    assert heading.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
    page.close()


def test_a_forecaster_page_shows_only_that_forecaster(browser, site):
    page, _ = _open(browser, site / "f" / "ben.html", 1280)
    assert page.locator("h1").inner_text() == "Track record of ben"
    for table in ("#resolved", "#open"):
        names = page.locator(f"{table} tbody .forecasts .who").all_inner_texts()
        assert names and set(names) == {"ben"}
    assert page.locator("#resolved select[name=forecaster]").count() == 0
    assert page.locator('.people [aria-current="page"]').all_inner_texts() == ["ben"]  # not "Overview"
    page.close()


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (.ci/run: npm install --prefix .ci/node axe-core)")
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", ["overview", "forecaster", "question"])
def test_no_serious_accessibility_violations(browser, site, kind, width):
    page, _ = _open(browser, _pages(site)[kind], width, bypass_csp=True)  # to inject axe's script
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    page.close()


def _assert_not_blank(path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    image = image_module.open(io.BytesIO(path.read_bytes())).convert("L")
    colours = image.getcolors(maxcolors=1 << 16) or []
    assert len(colours) > 20, f"{path} looks blank ({len(colours)} shades)"
    lo, hi = image.getextrema()
    assert hi - lo > 100
