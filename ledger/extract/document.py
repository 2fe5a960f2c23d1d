"""From an input file to the sentences worth reading: text, Markdown or HTML.

HTML is reduced to its text (scripts, navigation, footers and forms dropped;
block elements become paragraph breaks) and its ``<meta>`` tags give source
metadata; Markdown front matter does the same for Markdown. Headings and
boilerplate (subscription prompts, share buttons) are dropped, because a
heading such as "The U.S. Cannot Replace China's Role" restates a claim made
in the body and a paywall prompt is never analysis. Sentences are split with
pySBD, which keeps "U.S." and numbered headings intact and needs no download.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)
_LOOKS_LIKE_HTML = re.compile(r"<(?:html|body|article|p|div|br|h[1-6]|li|span)\b[^>]*>", re.IGNORECASE)

# Front-matter and <meta> keys, by the Source field they fill (first found wins).
_META_KEYS = {
    "title": ("title", "og:title", "twitter:title", "headline"),
    "author": ("author", "authors", "article:author", "byline", "dc.creator"),
    "outlet": ("outlet", "publication", "publisher", "site", "site_name", "og:site_name", "newsletter"),
    "url": ("url", "link", "canonical_url", "canonical", "og:url"),
    "published": ("published", "date", "publication_date", "pubdate", "article:published_time", "datepublished"),
}

# Phrases that only ever appear in site furniture, never in analysis.
_BOILERPLATE = re.compile(
    r"\b(?:subscribe|sign up|sign in|log in|free trial|keep reading|read more|click here|"
    r"all rights reserved|share this|follow us|advertisement|upgrade to paid|paid subscribers|"
    r"leave a comment|post a comment|no comments|accept cookies|cookie policy)\b",
    re.IGNORECASE,
)
_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_NUMBERED = re.compile(r"^\s*(?:\d+|[ivxIVX]+|[A-Za-z])[.)]\s+")
_MINOR_WORDS = frozenset(
    "a an and as at but by for from in into nor of on or per the to vs via with".split()
)
_HEADING_MAX_WORDS = 14


@dataclass(frozen=True)
class Document:
    """The readable paragraphs of an input and the source metadata it declares."""

    paragraphs: list[str]
    metadata: dict[str, str] = field(default_factory=dict)


# --- HTML -----------------------------------------------------------------

class _TextParser(HTMLParser):
    """Collects visible text, paragraph by paragraph, and the page's metadata."""

    SKIP = frozenset({"script", "style", "noscript", "nav", "footer", "aside", "form", "header",
                      "svg", "button", "iframe", "template", "figcaption", "select"})
    BLOCK = frozenset({"p", "div", "section", "article", "main", "li", "ul", "ol", "blockquote",
                       "br", "tr", "table", "pre", "dd", "dt", "figure", "hr"})
    HEADING = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self._skipping = 0
        self._in_heading = 0

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "meta":
            key = (attributes.get("property") or attributes.get("name") or attributes.get("itemprop") or "").lower()
            if key and attributes.get("content"):
                self.meta.setdefault(key, attributes["content"].strip())
        elif tag == "link" and attributes.get("rel", "").lower() == "canonical" and attributes.get("href"):
            self.meta.setdefault("canonical", attributes["href"])
        elif tag == "time" and attributes.get("datetime"):
            self.meta.setdefault("datepublished", attributes["datetime"])
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.HEADING:
            self._in_heading += 1
            self.parts.append("\n\n")
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.HEADING:
            self._in_heading = max(0, self._in_heading - 1)
            self.parts.append("\n\n")
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self.lasttag == "title" and self._in_heading:
            self.meta.setdefault("title", " ".join(data.split()))
            return
        if self._skipping:
            return
        if self._in_heading:
            # Marked as a Markdown heading so the one heading rule applies to both inputs.
            self.parts.append("# " + " ".join(data.split()) + "\n")
        else:
            self.parts.append(data)


def _from_html(raw: str) -> tuple[str, dict[str, str]]:
    parser = _TextParser()
    parser.feed(raw)
    parser.close()
    text = "".join(parser.parts)
    # Within a paragraph, HTML whitespace (including single newlines) is one space.
    paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p), parser.meta


# --- Markdown -------------------------------------------------------------

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*{1,3}|(?<!\w)_{1,3})(?=\S)(.+?)(?<=\S)\1(?!\w)")
_MD_CODE = re.compile(r"`([^`]*)`")
# [ \t], not \s: \s also matches newlines, so from every line start the match would run on
# through all the blank lines below and fail: quadratic on a run of blank lines (minutes on 200k).
_MD_BULLET = re.compile(r"^[ \t]*(?:[-*+]|>+)[ \t]+", re.MULTILINE)


def _front_matter(raw: str) -> tuple[str, dict[str, str]]:
    match = _FRONT_MATTER.match(raw)
    if not match:
        return raw, {}
    import yaml

    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return raw, {}
    if not isinstance(data, dict):
        return raw, {}
    meta = {}
    for key, value in data.items():
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        if value is not None:
            meta[str(key).lower()] = str(value)
    return raw[match.end():], meta


def _strip_markdown(text: str) -> str:
    """Markup out, words kept: links keep their text, emphasis its words."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    text = "\n".join(lines)
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_CODE.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return _MD_BULLET.sub("", text)


# --- paragraphs, headings, boilerplate -----------------------------------

def is_heading(line: str) -> bool:
    """A Markdown heading, or a short line in Title Case ("2. The U.S. Cannot Replace...")."""
    if _MARKDOWN_HEADING.match(line):
        return True
    words = re.findall(r"[A-Za-z][\w'’.-]*", _NUMBERED.sub("", line))
    if not words or len(words) > _HEADING_MAX_WORDS or line.rstrip().endswith(("?", "!", ",")):
        return False
    content = [word for word in words[1:] if word.lower() not in _MINOR_WORDS]
    if not content:
        return not line.rstrip().endswith(".")
    capitalised = sum(word[0].isupper() for word in content)
    return capitalised / len(content) >= 0.75


def is_boilerplate(sentence: str) -> bool:
    return bool(_BOILERPLATE.search(sentence))


def _paragraphs(text: str) -> list[str]:
    """Lines are paragraphs (plain text and Markdown alike); headings dropped."""
    return [line.strip() for line in text.splitlines() if line.strip() and not is_heading(line)]


def read_document(raw: str) -> Document:
    """Split an input into readable paragraphs and the metadata it declares."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if _LOOKS_LIKE_HTML.search(raw):
        text, meta = _from_html(raw)
        text = html.unescape(text)
    else:
        text, meta = _front_matter(raw)
        text = _strip_markdown(text)
    return Document(paragraphs=_paragraphs(text), metadata=_source_fields(meta))


def _source_fields(meta: dict[str, str]) -> dict[str, str]:
    """Map whatever keys the input used onto Source's fields."""
    fields = {}
    for name, keys in _META_KEYS.items():
        for key in keys:
            if meta.get(key):
                fields[name] = meta[key]
                break
    if "published" in fields:
        fields["published"] = fields["published"][:10]  # 2025-02-25T08:00:00Z -> the date
    return fields


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


# A paragraph with no sentence-ending mark before its end (a headline, a list item, a one-sentence line) is
# one sentence: pySBD, the slowest step after the parse, is asked only about the others. No ")" either:
# pySBD splits "a) …, b) …" enumerations. (Where they differ pySBD was wrong: it cut off a closing quote.)
_ONE_SENTENCE = re.compile(r"[^\n.!?…)]*[.!?…]?[\"'”’\]]*\s*")


def sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph, exactly as written (whitespace trimmed)."""
    if _ONE_SENTENCE.fullmatch(paragraph.strip()):
        return [paragraph.strip()] if paragraph.strip() else []
    return [s.strip() for s in _segmenter().segment(paragraph) if s.strip()]
