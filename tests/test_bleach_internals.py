"""Each Bleach internal that moderation/sanitise.py relies on, checked on its own.

Bleach is deprecated upstream and sanitise.py reaches past its public API (bleach.clean) in
the places below. A Bleach release that changes one of them fails here, naming the internal,
before any comment is cleaned by a silently different sanitiser. The README section
"Sanitising and Bleach" says what moving to nh3 would take.
"""
from __future__ import annotations

import inspect
import re

import bleach
import pytest
from bleach.html5lib_shim import BleachHTMLParser, Filter, getTreeWalker
from bleach.linkifier import TLDS, LinkifyFilter

from moderation import sanitise


def broken(internal: str, reliance: str) -> str:
    return (f"Bleach {bleach.__version__} changed {internal}, which moderation/sanitise.py relies on: "
            f"{reliance}. Adapt sanitise.py (or move to nh3, see README 'Sanitising and Bleach') "
            f"before upgrading Bleach.")


def _parameters(function) -> set[str]:
    return set(inspect.signature(function).parameters)


def test_cleaner_takes_the_arguments_sanitise_passes():
    expected = {"tags", "attributes", "protocols", "strip", "strip_comments", "filters"}
    assert expected <= _parameters(bleach.Cleaner.__init__), broken(
        "bleach.Cleaner.__init__'s parameters", f"_CommentCleaner passes {sorted(expected)}")


def test_cleaner_clean_uses_its_parser_and_walker_attributes():
    """_CommentCleaner swaps self.parser and self.walker after Cleaner.__init__."""
    calls = []
    cleaner = bleach.Cleaner(tags={"p"}, strip=True)
    assert hasattr(cleaner, "parser") and hasattr(cleaner, "walker"), broken(
        "bleach.Cleaner's parser and walker attributes", "_CommentCleaner replaces both")
    parse, walk = cleaner.parser.parseFragment, cleaner.walker
    cleaner.parser.parseFragment = lambda text: calls.append("parser") or parse(text)
    cleaner.walker = lambda tree: calls.append("walker") or walk(tree)
    assert cleaner.clean("<p>hi</p>") == "<p>hi</p>"
    assert calls == ["parser", "walker"], broken(
        "how Cleaner.clean builds its tree",
        "clean() must call self.parser.parseFragment, then self.walker on the result")


def test_cleaner_applies_filters_after_sanitising_as_source_keyword():
    seen = []

    class Recorder(Filter):
        def __iter__(self):
            for token in Filter.__iter__(self):
                seen.append(token)
                yield token

    assert bleach.Cleaner(tags={"p"}, strip=True, filters=[Recorder]).clean("<p>a<b>c</b></p>") == "<p>ac</p>"
    tags = [(t["type"], t["name"]) for t in seen if "name" in t]
    assert tags == [("StartTag", "p"), ("EndTag", "p")] and "ac" in [t.get("data") for t in seen], broken(
        "Cleaner's filters", "each filter is called as filter(source=...) on the sanitised token stream, "
        "so _LinkifyCleanTokens only sees allow-listed tokens")


def test_bleach_html_parser_builds_hidden_elements_as_a_browser_does():
    """With the hidden elements allowed, script and svg content come out as elements of their own."""
    assert {"tags", "strip", "consume_entities"} <= _parameters(BleachHTMLParser.__init__), broken(
        "BleachHTMLParser.__init__'s parameters", "_CommentCleaner passes tags, strip, consume_entities")
    parser = BleachHTMLParser(tags={"p", "script", "svg"}, strip=True, consume_entities=False,
                              namespaceHTMLElements=False)
    tokens = list(getTreeWalker("etree")(parser.parseFragment("<p>a<script>b</p><i>c</i></script>d</p>"
                                                                "<svg><p>e</svg>")))
    kinds = [(t["type"], t.get("name"), t["data"] if t["type"] == "Characters" else None) for t in tokens]
    assert ("StartTag", "script", None) in kinds and ("Characters", None, "b</p><i>c</i>") in kinds, broken(
        "BleachHTMLParser", "script content must be parsed as raw text inside a script element, so "
        "_DropHiddenContent can drop it whole")
    assert ("StartTag", "svg", None) in kinds, broken("BleachHTMLParser", "svg must stay an element")


def test_bleach_html_parser_leaves_entities_alone_when_asked():
    parser = BleachHTMLParser(tags={"p"}, strip=True, consume_entities=False, namespaceHTMLElements=False)
    tokens = list(getTreeWalker("etree")(parser.parseFragment("<p>&amp;lt; &copy;</p>")))
    assert [t["data"] for t in tokens if t["type"] == "Characters"] == ["&amp;lt; &copy;"], broken(
        "BleachHTMLParser(consume_entities=False)", "entities stay in the text for the sanitiser to handle")


def test_filter_base_class_passes_tokens_through_with_balanced_tags():
    """_DropHiddenContent counts depth on StartTag/EndTag from Filter.__iter__."""
    parser = BleachHTMLParser(tags={"p", "b", "script", "br"}, strip=True, consume_entities=False,
                              namespaceHTMLElements=False)
    tree = parser.parseFragment("<p><b>x<br></p>y")  # unclosed <b>, a void element
    tokens = list(Filter(getTreeWalker("etree")(tree)))
    assert all(isinstance(t, dict) and "type" in t for t in tokens), broken(
        "html5lib_shim.Filter", "tokens are dicts with a 'type'")
    depth = 0
    for token in tokens:
        depth += {"StartTag": 1, "EndTag": -1}.get(token["type"], 0)
        assert depth >= 0
    assert depth == 0 and any(t["type"] == "EmptyTag" and t["name"] == "br" for t in tokens), broken(
        "the tree walker's token stream", "start and end tags are balanced and void elements are EmptyTag")


def test_linkify_filter_takes_the_arguments_sanitise_passes():
    expected = {"source", "callbacks", "skip_tags", "parse_email", "url_re"}
    assert expected <= _parameters(LinkifyFilter.__init__), broken(
        "LinkifyFilter.__init__'s parameters", f"sanitise passes {sorted(expected)}")


def test_linkify_filter_yields_every_text_token_through_extract_entities():
    """_LinkifyCleanTokens overrides extract_entities; the override only works if it is called."""
    assert callable(getattr(LinkifyFilter, "extract_entities", None)), broken(
        "LinkifyFilter.extract_entities", "_LinkifyCleanTokens overrides it")
    calls = []

    class Counting(LinkifyFilter):
        def extract_entities(self, token):
            calls.append(token.get("data"))
            yield token

    source = iter([{"type": "Characters", "data": "a & b "},
                   {"type": "Characters", "data": "https://gazette.example/x"}])
    out = list(Counting(source=source, url_re=sanitise._URL_RE))
    assert "a & b " in calls, broken("LinkifyFilter.__iter__", "every Characters token goes through "
                                     "self.extract_entities, where the override keeps '&' literal")
    assert any(t["type"] == "StartTag" and t["name"] == "a" for t in out), broken(
        "LinkifyFilter.handle_links", "a url_re with finditer() and group(0) is all it needs")


def test_the_sanitiser_hands_linkify_literal_ampersands():
    """The override's premise: after Bleach's sanitiser, '&' in text is a literal character."""
    seen = []

    class Recorder(Filter):
        def __iter__(self):
            for token in Filter.__iter__(self):
                if token["type"] == "Characters":
                    seen.append(token["data"])
                yield token

    bleach.Cleaner(tags={"p"}, strip=True, filters=[Recorder]).clean("<p>&amp;lt; &amp; x</p>")
    assert "".join(seen) == "&lt; & x", broken(
        "BleachSanitizerFilter's text tokens", "'&amp;' arrives as a literal '&', so "
        "_LinkifyCleanTokens.extract_entities must not read entities again")


def test_linkify_callbacks_get_attrs_keyed_by_namespace_and_a_new_flag():
    calls = []

    def callback(attrs, new=False):
        calls.append((dict(attrs), new))
        return attrs

    source = iter([{"type": "Characters", "data": "https://gazette.example/x"}])
    list(LinkifyFilter(source=source, callbacks=[callback], url_re=sanitise._URL_RE))
    assert calls and calls[0][1] is True and (None, "href") in calls[0][0], broken(
        "LinkifyFilter's callbacks", "_link_policy(attrs, new) reads attrs[(None, 'href')]")


def test_tlds_is_a_list_of_plain_labels():
    assert len(TLDS) > 100 and all(re.fullmatch(r"[a-zа-я0-9.-]+", tld) for tld in TLDS), broken(
        "bleach.linkifier.TLDS", "sanitise._URL_RE builds its no-scheme branch from it")
    assert "com" in TLDS and "zip" not in TLDS


@pytest.mark.parametrize("body, expected", [
    ("<p>x<script>alert(1)</script>y</p>", "<p>xy</p>"),
    ("see https://gazette.example/a &amp;lt;", '<a href="https://gazette.example/a" rel="nofollow ugc noopener">'
                                               'https://gazette.example/a</a> &amp;lt;'),
])
def test_sanitise_through_all_of_them(body, expected):
    result = sanitise.clean_html(body)
    assert expected in result and sanitise.clean_html(result) == result
