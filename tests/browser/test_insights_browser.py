"""An editor adds a lexicon term and starts a rescore in headless Chromium; progress updates without a reload."""
from __future__ import annotations

import pytest

from review_support import PASSWORD, make_user
from support import comment_payload

from .conftest import new_page, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app(make_app):
    return make_app(LEXICON_CHECK_SECONDS=0)


def test_editor_adds_a_term_and_watches_a_rescore_finish(app, site, live, browser, page_errors, post_comment):
    from moderation.worker import Worker
    from test_callbacks_support import Clock

    make_user(app, "editor@news.example", "editor", ("news",))
    post_comment(comment_payload("c1", "<p>what a zorblax</p>"))
    assert post_comment(comment_payload("c2", "<p>A fine idea.</p>")).json["status"] == "approved"
    context, page = new_page(browser, page_errors)
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    sign_in(page, live.url, "editor@news.example", PASSWORD)
    page.goto(f"{live.url}/sites/news/policy/insights?window=24h")
    assert page.locator("svg.chart-histogram").count() == 7
    assert page.locator("#hist-insult-title").text_content() == "Distribution of insult scores"

    page.fill("#lexicon-terms", "zorblax")
    page.select_option("#lexicon-category", "ethnic_slur")
    page.click("text=Add terms")
    page.wait_for_selector("text=Added 1 term(s) for site news")
    assert page.locator(".lexicon-terms td", has_text="zorblax").count() == 1

    page.check("input[name=window][value='24h']")
    page.click("button:has-text('Rescore')")
    page.wait_for_selector("text=queued: 0 of 2")
    Worker(app, clock=Clock()).run(until_idle=True)  # the worker, while the page stays open
    page.wait_for_selector("[data-rescore-job] >> text=done: 2 of 2", timeout=15000)
    assert page.locator("[data-rescore-job] progress").get_attribute("value") == "100"
    assert page.locator("[data-rescore-job] [data-changed]").text_content() == "1"  # c1 now queued by the term
    assert page_errors == {"dialogs": [], "errors": []} and violations == []
    context.close()


def test_refused_lexicon_terms_bring_the_editor_to_the_field_in_error(app, site, live, browser, page_errors):
    make_user(app, "editor@news.example", "editor", ("news",))
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "editor@news.example", PASSWORD)
    page.goto(f"{live.url}/sites/news/policy/insights")
    page.fill("#lexicon-terms", "zorblax")
    page.fill("#lexicon-language", "english")  # not a language code
    page.click("text=Add terms")
    page.wait_for_selector("#lexicon-language-error")
    assert page.evaluate("document.activeElement.id") == "lexicon-language"
    assert page.evaluate("(() => { const r = document.activeElement.getBoundingClientRect();"
                         " return r.top >= 0 && r.bottom <= window.innerHeight; })()")
    context.close()
