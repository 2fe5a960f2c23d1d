"""Markdown for people: user text rendered as text, never as markup.

Principle 5 of the design: statements, notes and quotes are data. In
Markdown that means every character a renderer could read as syntax
(emphasis, links, headings, lists, tables, code, raw HTML) is escaped, and a
line break in user text cannot end the list item or table cell it sits in.
Used by the review minutes and the report's Markdown output.
"""

from __future__ import annotations

import re

from ledger.format import is_http_url

# Characters CommonMark/GFM read as inline syntax anywhere in a line:
# escapes, code, emphasis, links and images, tables, strikethrough, math.
# (Backslash-escaping ASCII punctuation is always valid CommonMark.)
_INLINE = re.compile(r"([\\`*_\[\]!|~$])")
# ... and what is syntax only at the start of a line: headings, list items
# (``-``, ``+``, ``1.``, ``1)``), setext underlines.
_LINE_START = re.compile(r"^(\d{1,9})([.)])|^([#+\-=])")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")


def escape_md(text: object) -> str:
    """``text`` as literal Markdown (inline): shows exactly what the user typed.

    ``&``, ``<`` and ``>`` become HTML entities (so ``<script>`` is text in
    every renderer, CommonMark or not); other syntax characters are
    backslash-escaped; line breaks become single spaces so the text stays in
    its list item or table cell. ``None`` becomes the empty string.
    """
    if text is None:
        return ""
    value = str(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _INLINE.sub(r"\\\1", value)
    value = _LINE_BREAKS.sub(" ", value).strip()
    return _LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", value)


def md_link(url: str | None) -> str:
    """An http(s) URL as a Markdown autolink; anything else as escaped text."""
    if not url:
        return ""
    url = url.strip()
    if is_http_url(url):
        return f"<{url}>"
    return escape_md(url)
