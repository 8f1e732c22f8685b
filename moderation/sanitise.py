"""Turn a comment body into safe HTML to show and plain text to score (Bleach allow-list)."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser

import bleach
from bleach.html5lib_shim import BleachHTMLParser, Filter
from bleach.linkifier import TLDS, LinkifyFilter

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "b", "em", "i", "u", "s", "blockquote", "q",
     "ul", "ol", "li", "code", "pre", "a"}
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Elements whose content is never shown as text in a page (code, styles, embedded documents,
# foreign SVG/MathML markup). Bleach's strip=True keeps the text inside any removed tag, so
# `<script>alert(1)</script>` would show (and be scored) as "alert(1)"; these are dropped
# whole instead. svg and math go too: their content is markup, and it is where most
# mutation-XSS tricks live.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "template", "noscript", "iframe", "frame", "frameset", "object",
     "embed", "applet", "noembed", "noframes", "xmp", "plaintext", "title",
     "svg", "math"}
)

# Block boundaries that become a line break in the plain text.
_BLOCK_TAGS = frozenset({"p", "br", "blockquote", "ul", "ol", "li", "pre"})

# C0/C1 controls except the HTML whitespace ones (\t \n \f \r). Browsers ignore or replace
# them, so they only serve to hide things ("java\0script:") from filters.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
_URL_IGNORED_CHARS = re.compile(r"[\x00-\x20\x7f-\xa0\s]+")

# What becomes a link in plain text (only http/https: Bleach's default protocols include data:).
# A URL written with http:// or https:// names its host on purpose, so any dotted host name
# links, whatever its suffix: new gTLDs (.news, .app), reserved ones (.example, .test) and
# internal names all resolve for the reader. Without a scheme, a dotted word is a link only
# when its last label is in Bleach's list of common TLDs: so "file.zip", "e.g." and
# "readme.md" are not links even where they are real TLDs (a public-suffix list would make them
# links, and .example is in no such list). The pattern is Bleach's build_url_re with the
# first branch added; LinkifyFilter only needs finditer() and group(0).
_URL_RE = re.compile(
    r"""\(*  # any opening parentheses (LinkifyFilter strips those that are not the URL's)
    \b(?<![@.])
    (?:
        https?://(?:(?:\w+:)?\w+@)?                        # scheme, optional user:password@
        (?:[\w-]+\.)+(?:xn--[\w-]{{2,59}}|[^\W\d_]{{2,63}})(?![\w-])  # any host name with a dot
      |
        (?:https?:/{{0,3}}(?:(?:\w+:)?\w+@)?)?
        (?:[\w-]+\.)+(?:{tlds})                             # a known TLD when no scheme
    )
    (?::[0-9]+)?(?!\.\w)\b                                  # port
    (?:[/?][^\s\{{\}}\|\\\^`<>"]*)?                          # path and query (RFC 3986's unsafe excluded)
    """.format(tlds="|".join(sorted(TLDS, key=len, reverse=True))),
    re.IGNORECASE | re.VERBOSE | re.UNICODE,
)


@dataclass(frozen=True)
class Sanitised:
    html: str  # safe HTML to store and show
    # plain text for scoring, as a reader sees the html: entities decoded, one line per block
    # (p, li, br, ...), other whitespace runs collapsed to one space, no control characters
    text: str


def sanitise(body: str) -> Sanitised:
    """Sanitise a comment body (HTML or plain text); never raises on any str."""
    # The body is read as HTML, the way a browser would read it: "a < b" stays text, but text
    # after an unclosed <script> or <style> is hidden content and dropped, as on a page.
    safe_html = clean_html(body)
    return Sanitised(html=safe_html, text=to_text(safe_html))


def clean_html(body: str) -> str:
    """Return the allow-listed, linkified HTML of a comment body."""
    body = _normalise_input(body)
    return _cleaner().clean(body) if body else ""


_CLEANERS = threading.local()


def _cleaner() -> "_CommentCleaner":
    """This thread's Cleaner. A Cleaner keeps parser state, so threads never share one; within
    a thread it is reused (building one costs about what cleaning a comment does), which is
    safe because every clean() starts a new parse from a reset parser and tokenizer."""
    cleaner = getattr(_CLEANERS, "cleaner", None)
    if cleaner is None:
        cleaner = _CLEANERS.cleaner = _CommentCleaner()
    return cleaner


def to_text(safe_html: str) -> str:
    """Return the text a reader sees in sanitised HTML: one line per block, spaces collapsed."""
    collector = _TextCollector()
    collector.feed(safe_html)
    collector.close()
    text = _CONTROL_CHARS.sub("", "".join(collector.parts))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _normalise_input(body: str) -> str:
    # A lone surrogate (JSON allows "\ud800") cannot be encoded as UTF-8 later on: make it
    # U+FFFD, as a UTF-16 decoder would. A valid pair stored as two code points is joined.
    body = body.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _CONTROL_CHARS.sub("", body)


class _CommentCleaner(bleach.Cleaner):
    """Bleach's Cleaner with our allow-list, links, and hidden elements dropped with their content."""

    def __init__(self) -> None:
        super().__init__(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            # Runs after Bleach's sanitiser, on clean tokens: it adds rel to every link and
            # links bare URLs, so nothing it creates is re-parsed or escapes the allow-list.
            # E-mail addresses are left as text: no need to make readers' addresses clickable.
            filters=[partial(_LinkifyCleanTokens, callbacks=[_link_policy],
                             skip_tags={"pre", "code"}, url_re=_URL_RE, parse_email=False)],
        )
        # Bleach's tokenizer turns every disallowed tag into an empty string before the tree
        # is built, so the text inside <script> becomes ordinary text. Letting the parser see
        # the hidden elements builds them as a browser would (raw text, foreign content);
        # the walker then skips them whole, before Bleach's sanitiser sees any token.
        self.parser = BleachHTMLParser(
            tags=ALLOWED_TAGS | DROPPED_WITH_CONTENT,
            strip=True,
            consume_entities=False,
            namespaceHTMLElements=False,
        )
        walk = self.walker
        self.walker = lambda tree: _DropHiddenContent(walk(tree))


class _DropHiddenContent(Filter):
    """Skip every element in DROPPED_WITH_CONTENT together with all it holds."""

    def __iter__(self) -> Iterator[dict]:
        depth = 0  # > 0 while inside a dropped element; the tree walker's tags are balanced
        for token in Filter.__iter__(self):
            kind = token["type"]
            if depth:
                if kind == "StartTag":
                    depth += 1
                elif kind == "EndTag":
                    depth -= 1
            elif kind == "StartTag" and token["name"] in DROPPED_WITH_CONTENT:
                depth = 1
            elif not (kind == "EmptyTag" and token["name"] in DROPPED_WITH_CONTENT):
                yield token


class _LinkifyCleanTokens(LinkifyFilter):
    """LinkifyFilter for the token stream of Bleach's sanitiser, which has already split out entities.

    The sanitiser turns "&amp;" into a literal "&" in the text; LinkifyFilter would read
    entities a second time, so "&amp;lt;" (the text "&lt;") would show as "<" and change
    again on every clean. Here every "&" left in the text is a literal one.
    """

    def extract_entities(self, token: dict) -> Iterator[dict]:
        yield token


def _link_policy(attrs: dict, new: bool = False) -> dict | None:
    """Linkify callback: only absolute http/https/mailto links, each with our rel, no target."""
    href_key = (None, "href")
    attrs.pop((None, "target"), None)
    if href_key not in attrs:
        return attrs  # an <a> without href links nowhere; keeping it keeps its text unlinked
    if not _has_allowed_scheme(attrs[href_key]):
        if new:
            return None  # leave the text as it was
        # Bleach lets relative URLs through; keep the anchor's text but not the link.
        del attrs[href_key]
        attrs.pop((None, "rel"), None)
        return attrs
    attrs[(None, "rel")] = LINK_REL
    return attrs


def _has_allowed_scheme(href: str) -> bool:
    # Decode entities and drop what browsers ignore in a URL, so that the scheme checked is
    # the one a browser would see (or one it would not even accept as a scheme).
    url = _URL_IGNORED_CHARS.sub("", html.unescape(href)).lower()
    scheme, colon, _ = url.partition(":")
    return bool(colon) and scheme in ALLOWED_PROTOCOLS


class _TextCollector(HTMLParser):
    """Collect text data, marking block boundaries with a newline."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        # A newline in the source is just a space on the page; only blocks make lines.
        self.parts.append(_WHITESPACE.sub(" ", data))
