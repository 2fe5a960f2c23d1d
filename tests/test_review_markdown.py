"""Markdown minutes: user text stays text (escaping), and the minutes say what happened."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ledger.markdown import escape_md, md_link

FORCE_TTY = "LEDGER_REVIEW_FORCE_TTY"


def render(markdown: str) -> str:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


def shown_as(text: str) -> str:
    """What a reader sees when escape_md(text) is rendered as a list item."""
    rendered = render(f"- {escape_md(text)}\n")
    match = re.fullmatch(r"<ul>\n<li>(.*)</li>\n</ul>\n", rendered, re.DOTALL)
    assert match, rendered
    assert "<" not in match.group(1), rendered  # no element inside: no markup made it through
    return html.unescape(match.group(1))


@pytest.mark.parametrize("text", [
    "*bold* and _em_ and __strong__",
    "[a link](https://evil.example) ![img](x.png)",
    "<script>alert('x')</script> & <b>bold</b> &amp;",
    "`code` | table | cell ~~struck~~",
    "# not a heading",
    "- not a list",
    "+ nor this",
    "1. not ordered",
    "12) nor this",
    "> not a quote",
    "=== not setext",
    "back\\slash \\*",
    "a_b_c snake_case",
    "50% chance, 3.5 times (maybe)",
])
def test_user_text_renders_as_itself(text):
    assert shown_as(text) == text


def test_line_breaks_stay_inside_the_item():
    assert shown_as("first line\n- second line\r\n\n# third") == "first line - second line # third"


def test_none_and_plain_text():
    assert escape_md(None) == ""
    assert escape_md("plain words (and a date 2025-01-01)") == "plain words (and a date 2025-01-01)"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab 1.-+#=>*_[]()!<>&;`|~\\$:/\"'")), min_size=1, max_size=40))
def test_any_punctuation_renders_as_itself(text):
    expected = text.strip()  # (no line breaks in this alphabet; inner spaces are kept)
    if expected:
        assert shown_as(text) == expected


def test_md_link_only_links_http_urls():
    assert md_link("https://example.org/a?b=1") == "<https://example.org/a?b=1>"
    assert md_link("javascript:alert(1)") == "javascript:alert(1)"
    assert "<a" not in render(md_link("javascript:alert(1)"))
    assert md_link("https://x.org/<script>") == "https://x.org/&lt;script&gt;"
    assert md_link(None) == ""


def add(cli, statement, by, *extra):
    return cli("add", statement, "-p", "80%", "--by", by, "-c", "as stated", *extra).stdout.strip()


def test_review_minutes_have_the_content_and_escape_user_text(cli, tmp_path, monkeypatch):
    monkeypatch.setenv(FORCE_TTY, "1")
    evil = add(cli, "Will *X* beat [Y](https://evil.example) <script>alert(1)</script>?", "2020-01-01",
               "--at", "2019-06-01")
    annulled = add(cli, "# Heading_like | pipe", "2021-01-01")
    extended = add(cli, "1. Ordered?", "2022-01-01")
    skipped = add(cli, "Skipped `code`", "2023-01-01")
    left = add(cli, "Left for later", "2024-01-01")
    minutes = tmp_path / "minutes.md"
    answers = [
        "r", "yes", "2020-02-01", "Note with **stars** and a <img src=x onerror=alert(1)>",
        "https://example.org/evidence", "y",
        "a", "criteria _could not_ apply", "y",
        "e", "2099-06-30", "moved [again]", "y",
        "s",
        "q",
    ]
    result = cli("review", "--summary", minutes, "--reviewer", "ann_b*", input="".join(f"{a}\n" for a in answers))
    assert f"minutes written to {minutes}" in result.stderr
    text = minutes.read_text()

    assert text.startswith("# Forecast review, ")
    assert "- Reviewer: ann\\_b\\*" in text
    assert "- Questions due: 5 (resolve-by passed or within 30d)" in text
    for row in ("| resolved | 1 |", "| annulled | 1 |", "| extended | 1 |", "| skipped | 1 |",
                "| not reviewed | 1 |", "| late: resolved or annulled after the resolve-by date | 2 |"):
        assert row in text
    assert "→ 0.0400 on 1 question" in text
    assert f"(`ledger show {evil}`); known 2020-02-01; **late**" in text
    assert "Evidence: <https://example.org/evidence>" in text
    assert "resolve-by 2022-01-01 → 2099-06-30  \n  Reason: moved \\[again\\]" in text
    assert f"Skipped \\`code\\` (`ledger show {skipped}`)" in text
    assert f"- Left for later (`ledger show {left}`)" in text
    assert annulled in text and extended in text

    page = render(text)
    assert "<script" not in page and "<img" not in page
    assert 'href="https://evil.example"' not in page
    assert "<em>" not in page and "<h1>Heading" not in page and "<ol>" not in page
    assert page.count("<strong>") == 3  # the outcome and two **late** marks: ours, not the user's
    assert page.count("<h1>") == 1
    assert 'href="https://example.org/evidence"' in page
    visible = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "Will *X* beat [Y](https://evil.example) <script>alert(1)</script>?" in visible
    assert "Note with **stars** and a <img src=x onerror=alert(1)>" in visible
    assert "# Heading_like | pipe" in visible
