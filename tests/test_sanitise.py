"""Tests for moderation.sanitise: the allow-list, links, plain text, and the shared XSS corpus."""

from __future__ import annotations

import dataclasses
import html
import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
from bleach._vendor import html5lib

from moderation import sanitise as sanitise_module
from moderation.sanitise import LINK_REL, Sanitised, sanitise, to_text
from xss_corpus import load_xss_vectors, xss_vector_params

HTML_NS = "http://www.w3.org/1999/xhtml"
ALLOWED = {
    "p": set(), "br": set(), "strong": set(), "b": set(), "em": set(), "i": set(),
    "u": set(), "s": set(), "blockquote": set(), "q": set(), "ul": set(), "ol": set(),
    "li": set(), "code": set(), "pre": set(), "a": {"href", "title", "rel"},
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "background",
                  "srcset", "lowsrc", "dynsrc", "codebase", "cite", "ping", "xlink:href"}
FORBIDDEN_ELEMENTS = {"script", "style", "iframe", "object", "embed", "form", "meta", "base",
                      "link", "svg", "math", "template", "noscript", "frame", "frameset"}
# What a browser ignores when it reads a URL's scheme, plus what it decodes first (entities).
URL_NOISE = re.compile(r"[\x00-\x20\x7f-\xa0\s]+")
DANGEROUS_SCHEME = re.compile(r"^(?:javascript|vbscript|data):", re.IGNORECASE)


def browser_parse(fragment: str) -> ET.Element:
    """Parse HTML the way a browser with scripting on parses a fragment in a <div>."""
    parser = html5lib.HTMLParser(namespaceHTMLElements=True)
    return parser.parseFragment(fragment, container="div", scripting=True)


def local_name(qualified: str) -> tuple[str | None, str]:
    if qualified.startswith("{"):
        namespace, name = qualified[1:].split("}", 1)
        return namespace, name
    return None, qualified


def attribute_name(qualified: str) -> str:
    namespace, name = local_name(qualified)
    return f"xlink:{name}" if namespace == "http://www.w3.org/1999/xlink" else name


def unsafe_parts(safe_html: str) -> list[str]:
    """Everything in parsed output that a browser could run or that is off the allow-list."""
    problems = []
    for node in browser_parse(safe_html).iter():
        if node.tag is ET.Comment:
            problems.append("comment node")
            continue
        if not isinstance(node.tag, str) or node.tag == "DOCUMENT_FRAGMENT":
            continue
        namespace, name = local_name(node.tag)
        if namespace != HTML_NS or name not in ALLOWED:
            problems.append(f"element {node.tag}")
        if name in FORBIDDEN_ELEMENTS:
            problems.append(f"forbidden element {name}")
        for qualified, value in node.attrib.items():
            attr = attribute_name(qualified)
            if attr.lower().startswith("on"):
                problems.append(f"event handler {attr} on {name}")
            if attr.lower() == "style":
                problems.append(f"style attribute on {name}")
            if attr not in ALLOWED.get(name, set()):
                problems.append(f"attribute {attr} on {name}")
            # html5lib has already decoded entities in attribute values, as a browser does.
            if attr.lower() in URL_ATTRIBUTES and DANGEROUS_SCHEME.match(URL_NOISE.sub("", value)):
                problems.append(f"dangerous URL {attr}={value!r} on {name}")
        if name == "a" and "href" in node.attrib:
            scheme = URL_NOISE.sub("", node.attrib["href"]).lower().partition(":")[0]
            if scheme not in {"http", "https", "mailto"}:
                problems.append(f"link with scheme {scheme!r}")
            if node.attrib.get("rel") != LINK_REL:
                problems.append(f"link without rel: {node.attrib}")
    return problems


def links(safe_html: str) -> list[dict[str, str]]:
    return [dict(node.attrib) for node in browser_parse(safe_html).iter(f"{{{HTML_NS}}}a")]


# --- the shared corpus -------------------------------------------------------------------


@pytest.mark.parametrize("vector", xss_vector_params())
def test_corpus_vector_leaves_nothing_runnable(vector: dict) -> None:
    result = sanitise(vector["payload"])
    assert unsafe_parts(result.html) == [], (vector["source"], result.html)
    # Stable: the output is already clean, so cleaning it again must change nothing.
    again = sanitise(result.html)
    assert again.html == result.html
    assert again.text == result.text


# --- the allow-list ----------------------------------------------------------------------


def test_allowed_tags_are_kept_as_written() -> None:
    body = (
        "<p><strong>a</strong> <b>b</b> <em>c</em> <i>d</i> <u>e</u> <s>f</s> <q>g</q></p>"
        "<blockquote>h</blockquote><ul><li>i</li></ul><ol><li>j</li></ol>"
        "<code>k</code><pre>l</pre>m<br>n"
    )
    assert sanitise(body).html == body


def test_other_tags_are_stripped_and_their_text_kept() -> None:
    result = sanitise('<div><span class="x">hello</span> <font color="red">there</font></div>')
    assert result.html == "hello there"
    assert result.text == "hello there"


def test_attributes_outside_the_list_are_dropped() -> None:
    body = '<p style="color:red" class="c" id="i" onclick="go()">text</p>'
    assert sanitise(body).html == "<p>text</p>"


@pytest.mark.parametrize("element", ["script", "style", "template", "noscript", "iframe",
                                     "object", "noembed", "xmp", "title", "svg", "math"])
def test_content_of_hidden_elements_is_dropped_whole(element: str) -> None:
    result = sanitise(f"before<{element}>alert(1)</{element}>after")
    assert result.html == "beforeafter"
    assert result.text == "beforeafter"


def test_html_comments_are_removed() -> None:
    assert sanitise("a<!-- hidden <b>x</b> -->b").html == "ab"


def test_visible_form_text_is_kept() -> None:
    # Text a reader would see in a form control stays text, even if it looks like markup.
    result = sanitise("<textarea>&lt;script&gt;x</textarea>")
    assert result.html == "&lt;script&gt;x"
    assert result.text == "<script>x"


# --- links ------------------------------------------------------------------------------


def test_links_get_rel_and_lose_target() -> None:
    result = sanitise('<a href="https://example.org/x" title="T" target="_blank" rel="opener">x</a>')
    assert result.html == f'<a href="https://example.org/x" title="T" rel="{LINK_REL}">x</a>'


def test_mailto_links_are_kept() -> None:
    assert links(sanitise('<a href="mailto:ed@example.org">mail</a>').html) == [
        {"href": "mailto:ed@example.org", "rel": LINK_REL}
    ]


@pytest.mark.parametrize("href", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
    "java\tscript:alert(1)", "java\x00script:alert(1)", "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)", "vbscript:msgbox(1)", "data:text/html,<script>x</script>",
    "ftp://example.org/", "/relative/path", "#fragment", "//example.org/protocol-relative",
])
def test_links_other_than_http_https_mailto_lose_their_href(href: str) -> None:
    result = sanitise(f'<a href="{html.escape(href)}">click</a>')
    assert result.html == "<a>click</a>"
    assert result.text == "click"


def test_bare_urls_are_linkified() -> None:
    result = sanitise("see example.com/page and https://example.org/?a=1&b=2.")
    assert links(result.html) == [
        {"href": "http://example.com/page", "rel": LINK_REL},
        {"href": "https://example.org/?a=1&b=2", "rel": LINK_REL},
    ]
    assert result.text == "see example.com/page and https://example.org/?a=1&b=2."


@pytest.mark.parametrize("url", [
    "https://gazette.example/photos", "https://gazette.news/a", "http://shop.app/cart?id=3#top",
    "https://intranet.corp.internal:8443/x", "https://пример.рф/путь", "https://xn--e1afmkfd.xn--p1ai/",
    "HTTPS://GAZETTE.NEWS/A",
])
def test_urls_with_a_scheme_link_whatever_their_suffix(url: str) -> None:
    result = sanitise(f"<p>photos at {url} today</p>")
    assert links(result.html) == [{"href": url, "rel": LINK_REL}]
    assert sanitise(result.html).html == result.html


@pytest.mark.parametrize("body", [
    "open file.zip now", "see e.g. this", "readme.txt", "version 1.2.3", "http://192.168.0.1/admin",
    "https://localhost/x", "https://a.b/", "ends.with-hyphen.example-",
])
def test_dotted_words_without_a_scheme_or_host_name_stay_text(body: str) -> None:
    assert links(sanitise(body).html) == []


@pytest.mark.parametrize("body", [
    "javascript:alert(1)//example.com", "data:text.com/x", "vbscript:example.com",
    "ftp://example.org", "JAVASCRIPT://example.com/%0Aalert(1)",
])
def test_linkify_only_creates_http_links(body: str) -> None:
    assert unsafe_parts(sanitise(body).html) == []
    assert all(link["href"].startswith("http://") for link in links(sanitise(body).html))


def test_linkify_skips_code_existing_links_and_email_addresses() -> None:
    body = '<pre>example.com</pre><code>example.org</code><a href="https://a.example.org">example.net</a> ed@example.org'
    assert [link["href"] for link in links(sanitise(body).html)] == ["https://a.example.org"]


def test_a_dropped_link_is_not_relinked_when_cleaned_again() -> None:
    first = sanitise('<a href="ftp://example.org">example.org</a>').html
    assert first == "<a>example.org</a>"
    assert sanitise(first).html == first


# --- plain text -------------------------------------------------------------------------


def test_plain_text_bodies_survive_and_are_escaped() -> None:
    result = sanitise("a < b and c > d & e")
    assert result.html == "a &lt; b and c &gt; d &amp; e"
    assert result.text == "a < b and c > d & e"


def test_escaped_entities_stay_literal_text() -> None:
    # "&amp;lt;" is the text "&lt;"; decoding it twice would show "<" and change on every clean.
    result = sanitise("write &amp;lt;b&amp;gt; for <b>, see example.org/?a=1&amp;lt=2")
    assert result.html.startswith("write &amp;lt;b&amp;gt; for <b>, see ")
    assert result.text == "write &lt;b&gt; for , see example.org/?a=1&lt=2"
    assert links(result.html) == [{"href": "http://example.org/?a=1&lt=2", "rel": LINK_REL}]
    assert sanitise(result.html) == result


def test_text_decodes_entities() -> None:
    assert sanitise("Fish &amp; chips, Tom&#39;s &quot;caf&eacute;&quot;").text == 'Fish & chips, Tom\'s "café"'


def test_text_puts_blocks_on_lines_and_collapses_spaces() -> None:
    body = "<p>  one \n two&nbsp;&nbsp;three </p>\n\n<ul><li>four</li><li>five</li></ul>six<br>seven<p></p>"
    assert sanitise(body).text == "one two three\nfour\nfive\nsix\nseven"


def test_text_of_inline_markup_has_no_extra_spaces() -> None:
    assert sanitise("un<b>believ</b>able <em>really</em>!").text == "unbelievable really!"


def test_to_text_alone() -> None:
    assert to_text("<p>a &lt;b&gt;</p><blockquote>c</blockquote>") == "a <b>\nc"


# --- robustness -------------------------------------------------------------------------


def test_empty_and_blank_bodies() -> None:
    assert sanitise("") == Sanitised(html="", text="")
    assert sanitise(" \n\t ").text == ""


def test_control_characters_are_removed() -> None:
    result = sanitise("a\x00b\x07c\x1bd\x85e\tf")
    assert result.html == "abcde\tf"
    assert result.text == "abcde f"


def test_lone_surrogates_become_replacement_characters() -> None:
    result = sanitise("x\ud800y\udfffz \U0001F600")
    assert result.text == "x\ufffdy\ufffdz \U0001F600"
    result.html.encode("utf-8")  # storable and sendable as UTF-8


@pytest.mark.parametrize("body", [
    "<b>" * 3000 + "x", "<blockquote>" * 2000 + "x", "<a href='http://x.org'>" * 2000,
    "<ul><li>" * 1000, "<svg>" * 3000 + "x", "<" * 20000, "&" * 20000, "\x00" * 20000,
    "<p title='" + "x" * 100000, "</p>" * 5000,
])
def test_pathological_bodies_do_not_raise(body: str) -> None:
    result = sanitise(body)
    assert unsafe_parts(result.html) == []


def test_result_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        sanitise("x").html = "<script>"  # type: ignore[misc]


def test_a_reused_cleaner_cleans_as_a_new_one_whatever_came_before() -> None:
    """Each thread keeps one Cleaner: after any body (a pathological one included), the next is
    cleaned exactly as a Cleaner of its own would clean it, in this thread and in others."""
    bodies = [item["payload"] for item in load_xss_vectors()]
    bodies += ["<b>" * 3000 + "x", "<" * 2000, "<p title='" + "x" * 1000, "plain", "<svg><p>x"]
    fresh = [sanitise_module._CommentCleaner().clean(sanitise_module._normalise_input(body)) for body in bodies]
    for order in (bodies, bodies[::-1]):
        expected = dict(zip(bodies, fresh))
        assert [sanitise_module.clean_html(body) for body in order] == [expected[body] for body in order]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(sanitise_module.clean_html, bodies * 2)) == fresh * 2
