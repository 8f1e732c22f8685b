"""The queue's order, keyset pages, filters, counts and lists, and what a card shows."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from markupsafe import Markup

from moderation.review.present import highlight, safe_link, score_bars
from review_support import Reviewer, add_comment, make_user, moderator  # noqa: F401
from support import make_site

ID_RE = re.compile(r'data-comment\s+data-id="(\d+)"')


def ids_on(page) -> list[int]:
    return [int(i) for i in ID_RE.findall(page.get_data(as_text=True))]


def next_link(page) -> str | None:
    match = re.search(r'<a href="([^"]+)" rel="next"', page.get_data(as_text=True))
    return match.group(1).replace("&amp;", "&") if match else None


def test_queue_is_most_harmful_first_then_oldest(app, site, moderator):
    low = add_comment(app, external_id="low", harm=0.61)
    high_old = add_comment(app, external_id="high-old", harm=0.97)
    mid = add_comment(app, external_id="mid", harm=0.8)
    high_new = add_comment(app, external_id="high-new", harm=0.97)
    add_comment(app, external_id="approved", status="approved", harm=0.99)
    assert ids_on(moderator.client.get("/review/")) == [high_old, high_new, mid, low]


def test_keyset_pages_cover_the_list_once_in_order(make_app, site):
    app = make_app(REVIEW_PAGE_SIZE=3)
    make_user(app, "mod@news.example")
    reviewer = Reviewer(app.test_client(), "mod@news.example")
    harms = [0.9, 0.9, 0.9, 0.8, 0.7, 0.7, 0.6, 0.5]
    expected = [add_comment(app, external_id=f"c{n}", harm=h) for n, h in enumerate(harms)]
    seen, url, pages = [], "/review/", 0
    while url:
        page = reviewer.client.get(url)
        assert page.status_code == 200
        seen += ids_on(page)
        url = next_link(page)
        pages += 1
    assert seen == expected and pages == 3


def test_decided_lists_are_newest_decision_first_with_keyset_pages(make_app, site):
    app = make_app(REVIEW_PAGE_SIZE=2)
    make_user(app, "mod@news.example")
    reviewer = Reviewer(app.test_client(), "mod@news.example")
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ids = [add_comment(app, external_id=f"r{n}", status="rejected", decided_by="model",
                       decided_at=start + timedelta(minutes=n % 3)) for n in range(5)]
    seen, url = [], "/review/?status=rejected"
    while url:
        page = reviewer.client.get(url)
        seen += ids_on(page)
        url = next_link(page)
    # decided_at minutes: 0,1,2,0,1 -> newest first, ties by id descending
    assert seen == [ids[2], ids[4], ids[1], ids[3], ids[0]]


def test_pending_list_is_oldest_first_and_shows_why(app, site, moderator):
    first = add_comment(app, external_id="p1", status="pending", harm=0.0, reasons=[], scores=None,
                        scoring_error="scorer unavailable: model not loaded")
    second = add_comment(app, external_id="p2", status="pending", harm=0.0, reasons=[], scores=None)
    page = moderator.client.get("/review/?status=pending")
    assert ids_on(page) == [first, second]
    text = page.get_data(as_text=True)
    # Why, in words; the raw message is for operators (/readyz, `moderation model info`).
    assert "<strong>Not scored yet</strong>: the model is not available." in text
    assert "<strong>Not scored yet</strong>: waiting for the scorer." in text
    assert "scorer unavailable" not in text


def test_filters_by_article_reason_language_and_site(app, site, moderator):
    make_site(app, "other")
    make_user(app, "admin@example.org", role="admin")
    a1 = add_comment(app, external_id="a1", article_id="a-1", language="en",
                     reasons=[{"code": "identity_attack", "score": 0.7, "threshold": 0.6}])
    a2 = add_comment(app, external_id="a2", article_id="a-2", language="fr",
                     reasons=[{"code": "suspect_word", "term": "x", "start": 0, "end": 1}])
    a3 = add_comment(app, external_id="a3", article_id="a-2", language="en",
                     reasons=[{"code": "toxicity", "score": 0.8, "threshold": 0.5}])
    client = moderator.client
    assert ids_on(client.get("/review/?article=a-2")) == [a2, a3]  # same harm: oldest first
    assert ids_on(client.get("/review/?reason=identity_attack")) == [a1]
    assert ids_on(client.get("/review/?reason=suspect_word")) == [a2]
    assert set(ids_on(client.get("/review/?language=en"))) == {a1, a3}
    assert ids_on(client.get("/review/?site=news&language=fr")) == [a2]
    other = add_comment(app, "other", external_id="o1")
    admin = Reviewer(app.test_client(), "admin@example.org")
    assert ids_on(admin.client.get("/review/?site=other")) == [other]
    assert client.get("/review/?status=nonsense").status_code == 400
    # Any article id the webhook accepts filters (escaped on the page); control characters do not.
    assert client.get("/review/?article=%3Cscript%3E").status_code == 200
    assert "<script>" not in client.get("/review/?article=%3Cscript%3E").get_data(as_text=True)
    assert client.get("/review/?article=a%01b").status_code == 400


def test_counts_per_list_follow_the_filters(app, site, moderator):
    for n in range(3):
        add_comment(app, external_id=f"q{n}", article_id="a-1")
    add_comment(app, external_id="q-other-article", article_id="a-9")
    add_comment(app, external_id="p", status="pending")
    add_comment(app, external_id="r", status="rejected", decided_by="model")
    html = moderator.client.get("/review/").get_data(as_text=True)
    counts = dict(re.findall(r'data-count="(\w+)">([\d,+]+)<', html))
    assert counts == {"queued": "4", "pending": "1", "approved": "0", "rejected": "1"}
    html = moderator.client.get("/review/?article=a-1").get_data(as_text=True)
    assert dict(re.findall(r'data-count="(\w+)">([\d,+]+)<', html))["queued"] == "3"


def test_webhook_comment_with_a_borderline_word_reaches_the_queue(app, site, moderator, post_comment):
    from support import comment_payload

    response = post_comment(comment_payload("w1", "<p>That is a stupid plan.</p>"))
    assert response.json["status"] == "queued", response.json
    page = moderator.client.get("/review/").get_data(as_text=True)
    assert f'data-id="{response.json["id"]}"' in page and "stupid plan" in page


def test_card_shows_context_reasons_scores_and_marked_words(app, site, moderator):
    add_comment(app, external_id="parent", status="approved", html="<p>The parent says hi</p>",
                         author_id="reader-9", author_name="Parent Author")
    add_comment(app, external_id="earlier", status="rejected", decided_by="human", reason_code="spam",
                text="Buy cheap watches", html="<p>Buy cheap watches</p>")
    text = "You <script> are scum, truly scum"
    comment_id = add_comment(
        app, external_id="child", parent_external_id="parent", text=text, html="<p>You are scum</p>",
        scores={"toxicity": 0.99, "identity_attack": 0.42}, harm=0.99,
        reasons=[{"code": "toxicity", "score": 0.99, "threshold": 0.95}],
        matches=[{"term": "scum", "category": "insult", "start": 17, "end": 21},
                 {"term": "scum", "category": "insult", "start": 29, "end": 33}],
        policy_version=1, article_url="javascript:alert(1)", article_title="Trophies park")
    page = moderator.client.get(f"/review/comments/{comment_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "The parent says hi" in html and "Parent Author" in html
    assert "Buy cheap watches" in html and "Spam" in html  # the author's earlier decision
    assert "0.99 ≥ 0.95" in html
    assert "&lt;script&gt; are <mark" in html and html.count('<mark title="Insult: scum">scum</mark>') == 2
    assert "w-99 over-reject" in html and "w-42 under" in html and "at-95" in html  # toxicity reject at 0.95
    assert "javascript:" not in html and "Trophies park" in html
    assert " style=" not in html


def test_card_links_the_article_when_it_is_http(app, site, moderator):
    comment_id = add_comment(app, article_url="https://news.example/a-1?x=1&y=2")
    html = moderator.client.get(f"/review/comments/{comment_id}").get_data(as_text=True)
    assert 'href="https://news.example/a-1?x=1&amp;y=2"' in html


def test_pages_have_no_inline_script_or_style(app, site, moderator):
    comment_id = add_comment(app)
    for path in ("/review/", f"/review/comments/{comment_id}", "/review/?status=approved"):
        html = moderator.client.get(path).get_data(as_text=True)
        assert " style=" not in html and "<style" not in html, path
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path
        assert re.search(r" on[a-z]+=", html) is None, path


def test_highlight_escapes_text_and_merges_overlapping_spans():
    text = "<b>slur</b> and slurs"
    marked = highlight(text, [{"start": 3, "end": 7, "category": "ethnic_slur", "term": "slur"},
                              {"start": 5, "end": 9, "category": "insult", "term": "ur<"},
                              {"start": 99, "end": 120, "category": "x"},  # stale offsets: ignored
                              {"start": "3", "end": 4}])
    assert isinstance(marked, Markup)
    assert str(marked) == ('&lt;b&gt;<mark title="Ethnic slur: slur; Insult: ur&lt;">slur&lt;/</mark>'
                           'b&gt; and slurs')


def test_score_bars_and_links():
    bars = score_bars({"insult": 0.5, "toxicity": 0.91, "custom": 0.1},
                      {"toxicity": {"review": 0.8, "reject": 0.95}})
    assert [b.code for b in bars] == ["toxicity", "insult", "custom"]
    assert (bars[0].width, bars[0].level) == (91, "over-review")
    assert bars[1].level == "under" and bars[1].review is None
    assert safe_link("https://x.example/a") == "https://x.example/a"
    assert safe_link("javascript:alert(1)") is None and safe_link("//evil.example") is None
