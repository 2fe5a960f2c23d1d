"""A published dashboard a reader can verify: `ledger verify SITE_DIR`, `--head`, and the page's own check
in a real headless Chromium served by a local static server."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import pytest


def add(cli, statement, p, *extra):
    return cli("add", statement, "-p", p, "--by", "2026-12-31", "--at", "2025-01-01", "-c", "Public reports say so", *extra).stdout.strip()


def make_ledger(cli):
    """Two forecasters, three resolved questions, one open; one question ana never forecast."""
    ids = [add(cli, "A happens", "80%"), add(cli, "B happens", "30%"), add(cli, "C happens", "60%", "-f", "bo")]
    cli("forecast", ids[0], "-p", "70%", "-f", "bo", "--at", "2025-02-01")
    cli("forecast", ids[0], "-p", "90%", "--at", "2025-03-01")
    for question, outcome in zip(ids, ["yes", "no", "yes"], strict=True):
        cli("resolve", question, outcome, "--on", "2025-06-01")
    add(cli, "D happens", "50%")
    return ids


def publish(cli, site, *extra):
    return cli("report", "--out", site, *extra)


def records(site):
    return [json.loads(line) for line in (site / "records" / "records-0001.jsonl").read_text().splitlines()]


def test_publish_verify_and_a_changed_probability_is_named(cli, tmp_path):
    make_ledger(cli)
    site = tmp_path / "site"
    publish(cli, site, "-f", "tester")
    ok = cli("verify", site)
    assert ok.stdout.startswith("ok: ")
    [claim] = [line for line in (site / "index.html").read_text().splitlines() if 'id="verify"' in line]
    head = cli.json("verify")["head"]
    assert f'data-head="{head}"' in claim
    published = records(site)
    shown = [r for r in published if "text" in r]
    hidden = [r for r in published if "text" not in r]
    # bo's forecasts and bo's own question are hashes only: nothing private is published
    assert {json.loads(r["text"]).get("forecaster") for r in shown if r["table"] == "forecast_records"} == {"tester"}
    assert hidden and all(set(r) == {"table", "seq", "commit_id", "hash"} for r in hidden)
    assert "C happens" not in (site / "records" / "records-0001.jsonl").read_text()
    assert json.loads((site / "heads.json").read_text())[0]["head"] == head

    altered = next(r for r in shown if r["table"] == "forecast_records" and '"probability":0.8' in r["text"])
    lines = (site / "records" / "records-0001.jsonl").read_text().replace(
        json.dumps(altered["text"])[1:-1], json.dumps(altered["text"].replace('"probability":0.8', '"probability":0.99'))[1:-1])
    (site / "records" / "records-0001.jsonl").write_text(lines)
    bad = cli("verify", site, ok=False)
    assert bad.exit_code == 5
    assert f"forecast record {altered['seq']} (commit {altered['commit_id']}) does not match its hash" in bad.stderr


def test_a_claimed_figure_that_does_not_recompute_is_named(cli, tmp_path):
    make_ledger(cli)
    site = tmp_path / "site"
    publish(cli, site)
    page = site / "index.html"
    text = page.read_text()
    brier = cli.json("score")["brier"]
    page.write_text(text.replace(f'data-brier="{brier}"', 'data-brier="0.01"'))
    bad = cli("verify", site, ok=False)
    assert bad.exit_code == 5 and f"the page says brier = 0.01, the published records give {brier}" in bad.stderr


def test_publish_again_proves_the_first_head_and_refuses_a_forged_one(cli, tmp_path):
    ids = make_ledger(cli)
    site = tmp_path / "site"
    publish(cli, site)
    first = cli.json("verify")["head"]
    question = add(cli, "E happens", "40%")
    cli("forecast", question, "-p", "45%")
    cli("resolve", question, "no", "--on", "2025-07-01")
    publish(cli, site)
    heads = json.loads((site / "heads.json").read_text())
    assert [h["head"] for h in heads][0] == first and len(heads) == 2
    proved = cli("verify", site, "--head", first)
    assert f"{first} is part of this chain" in proved.stdout
    assert cli("verify", "--head", first[:16]).exit_code == 0  # against the ledger file too
    forged = "f" * 64
    refused = cli("verify", site, "--head", forged, ok=False)
    assert refused.exit_code == 5 and f"head {forged} is not a head of this chain" in refused.stderr
    assert cli("verify", "--head", forged, ok=False).exit_code == 5
    # a heads.json entry that was never a head of this chain is named
    (site / "heads.json").write_text(json.dumps([*heads, {"head": forged, "published_at": "2025-01-01T00:00:00Z"}]))
    bad = cli("verify", site, ok=False)
    assert bad.exit_code == 5 and "is not a head of this chain (the record did not only grow)" in bad.stderr
    assert ids


def _records_files(site: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted((site / "records").glob("records-*.jsonl"))}


def test_a_republish_writes_only_the_records_files_that_changed(cli, tmp_path, monkeypatch):
    """Records files of 4 records: a forecast more rewrites the last file only; another selection rewrites the
    files whose published texts it changes. Each time the files are a fresh publish's, and the site verifies."""
    monkeypatch.setattr("ledger.publish.RECORDS_PER_FILE", 4)
    make_ledger(cli)
    question = add(cli, "E happens", "40%")
    site = tmp_path / "site"
    publish(cli, site, "--cdn")
    before = _records_files(site)
    assert len(before) >= 4
    cli("forecast", question, "-p", "45%")
    publish(cli, site, "--cdn")
    after = _records_files(site)
    last = sorted(after)[-1]
    assert {name for name in after if after[name][1] != before.get(name, (b"", 0))[1]} == {last}
    assert {name: data for name, (data, _) in after.items()} == {
        name: data for name, (data, _) in _records_files(publish_fresh(cli, tmp_path / "fresh")).items()}
    assert cli("verify", site).stdout.startswith("ok: ")
    publish(cli, site, "--cdn", "-f", "bo")
    mine = _records_files(site)
    assert all(mine[name][1] != after[name][1] for name in mine)  # bo's texts shown now, the tester's hidden
    assert {name: data for name, (data, _) in mine.items()} == {
        name: data for name, (data, _) in _records_files(publish_fresh(cli, tmp_path / "fresh-bo", "-f", "bo")).items()}
    assert cli("verify", site).stdout.startswith("ok: ")


def publish_fresh(cli, site: Path, *extra) -> Path:
    publish(cli, site, "--cdn", *extra)
    return site


# -- the page checks itself, in a real browser ------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture
def served(tmp_path):
    """A static server on 127.0.0.1 over tmp_path, as any static host would serve a site folder."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt install chromium)")
def test_the_page_verifies_itself_in_chromium(cli, tmp_path, served):
    sync_api = pytest.importorskip("playwright.sync_api")
    make_ledger(cli)
    site = tmp_path / "site"
    publish(cli, site)
    brier = cli.json("score")["brier"]
    outside = []

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()

        def route(request_route):
            if request_route.request.url.startswith((served, site.as_uri())):
                request_route.continue_()
            else:
                outside.append(request_route.request.url)
                request_route.abort()

        page.route("**/*", route)
        missing = []  # a static host answers 404 for anything the site links to and does not hold
        page.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)

        def verdict(url=f"{served}/site/index.html"):
            page.goto(url)
            page.wait_for_selector('#verify:not([data-verified="pending"])', timeout=20_000)
            return page.get_attribute("#verify", "data-verified"), page.inner_text("#verify")

        state, sentence = verdict()
        assert state == "true", sentence
        assert f"Brier {brier:.3f} recomputed" in sentence and "Checked in your browser:" in sentence
        assert missing == []

        path = site / "records" / "records-0001.jsonl"
        path.write_text(path.read_text().replace('\\"probability\\":0.3', '\\"probability\\":0.31', 1))
        state, sentence = verdict()
        assert state == "false"
        assert "does not match its hash" in sentence

        state, sentence = verdict((site / "index.html").as_uri())
        assert state == "false" and "opened from a file" in sentence and "python -m http.server" in sentence
        browser.close()
    assert outside == []


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt install chromium)")
def test_a_forecaster_page_of_a_shared_ledger_verifies_in_chromium(cli, tmp_path, served):
    """bo joined question A a month after ana opened it: bo's time-averaged score weighs the month before
    bo's first forecast as 50%, from an opening only ana's forecast shows, which bo's page does not publish."""
    sync_api = pytest.importorskip("playwright.sync_api")
    ids = make_ledger(cli)
    site = tmp_path / "site"
    publish(cli, site, "--forecaster", "bo")
    brier = cli.json("score", "--forecaster", "bo")["brier"]
    manifest = json.loads((site / "records" / "manifest.json").read_text())
    opening_of_a = [at for question, at in manifest["openings"].items() if question.startswith(ids[0])]
    assert opening_of_a == ["2025-01-01 00:00:00"]  # ana's first forecast, not bo's
    assert all('\\"forecaster\\":\\"ana\\"' not in r.get("text", "") for r in records(site))
    assert cli("verify", site).exit_code == 0

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.goto(f"{served}/site/index.html")
        page.wait_for_selector('#verify:not([data-verified="pending"])', timeout=20_000)
        state, sentence = page.get_attribute("#verify", "data-verified"), page.inner_text("#verify")
        browser.close()
    assert state == "true", sentence
    assert f"Brier {brier:.3f} recomputed" in sentence
