"""The dashboard in a real headless Chromium, with no network.

Debian's `chromium` (installed by `.ci/run`) driven by playwright at the
system binary; playwright never downloads a browser here. Every request that
is not a local file is aborted and recorded, which proves the page works
offline. Checks: every chart renders an SVG, no console errors, the
`<script>` statement shows as text and no dialog fires, a phone-width layout
does not scroll sideways, and a screenshot is not blank.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.test_report import XSS_FORECASTER, XSS_STATEMENT, hostile_ledger

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt install chromium)")


@pytest.fixture(scope="module")
def page_path(tmp_path_factory) -> Path:
    from ledger.report import ReportOptions, build
    from ledger.store import Store

    tmp = tmp_path_factory.mktemp("browser")
    db = hostile_ledger(tmp / "ledger.duckdb", tmp)
    with Store.open(db) as store:
        return build(store, tmp / "site", ReportOptions(n_resamples=100))


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _open(browser, page_path: Path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
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
    page.goto(page_path.as_uri())
    page.wait_for_function(
        "document.querySelectorAll('figure.chart').length > 0 && document.querySelectorAll('figure.chart').length"
        " === document.querySelectorAll('figure.chart[data-rendered]').length",
        timeout=20_000,
    )
    return page, events


def test_dashboard_renders_offline_and_safely(browser, page_path, tmp_path):
    page, events = _open(browser, page_path, 1280)
    charts = page.eval_on_selector_all(
        "figure.chart", "els => els.map(e => [e.dataset.chart, !!e.querySelector('svg.main-svg')])")
    assert len(charts) >= 6 and all(has_svg for _, has_svg in charts), charts
    assert {name for name, _ in charts} >= {"reliability", "folded", "sharpness", "over_time", "leaderboard",
                                            "by_forecaster"}
    assert events["console"] == [] and events["errors"] == []
    assert events["blocked"] == []  # nothing asked for the network
    assert events["dialogs"] == []  # no alert() ran
    statements = page.locator("p.stmt").all_inner_texts()
    assert XSS_STATEMENT in statements  # shown as text
    assert page.locator("script:not([src]):not([type='application/json'])").count() == 0
    assert page.locator("img").count() == 0  # the hostile <img onerror> stayed text
    assert XSS_FORECASTER in page.locator("#by-forecaster + figure, #by-forecaster ~ div table").first.inner_text() \
        or XSS_FORECASTER in page.inner_text("#breakdowns")

    # Sorting a table by a column moves its rows.
    body = page.locator("#resolved-table tbody tr td:nth-child(4)")
    before = body.all_inner_texts()
    page.click("#resolved-table th:nth-child(4)")
    after = body.all_inner_texts()
    assert sorted(before) == sorted(after) and after != before

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=False)
    _assert_not_blank(shot)
    page.close()


def test_dashboard_fits_a_phone(browser, page_path, tmp_path):
    page, events = _open(browser, page_path, 390)
    assert events["console"] == [] and events["errors"] == []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px on a phone"
    shot = tmp_path / "phone.png"
    page.locator("#calibration").screenshot(path=str(shot))
    _assert_not_blank(shot)
    page.close()


def _assert_not_blank(path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    image = image_module.open(io.BytesIO(path.read_bytes())).convert("L")
    colours = image.getcolors(maxcolors=1 << 16) or []
    assert len(colours) > 20, f"{path} looks blank ({len(colours)} shades)"
    lo, hi = image.getextrema()
    assert hi - lo > 100
