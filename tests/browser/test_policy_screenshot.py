"""README screenshot of the editors' policy page with a preview (runs only when asked, like test_screenshots.py):

    MODERATION_SCREENSHOTS_DIR=docs/screenshots .venv/bin/python -m pytest tests/browser/test_policy_screenshot.py
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from review_support import PASSWORD, make_user

from .conftest import new_page, serve, sign_in

pytestmark = pytest.mark.browser
TARGET = os.environ.get("MODERATION_SCREENSHOTS_DIR")


@pytest.mark.skipif(not TARGET, reason="set MODERATION_SCREENSHOTS_DIR to write the README screenshots")
def test_take_policy_screenshot(app, site, browser, page_errors, post_comment):
    from moderation.demo import sample_comments
    from moderation.extensions import db
    from moderation.policy_versions import save_policy
    from moderation.sites import require

    with app.app_context():
        save_policy(require("news"), {"suspect_words": ["barbaric", "cowards"]}, actor_type="cli",
                    author="chief@news.example", note="Words moderators asked to see")
        db.session.commit()
    for comment in sample_comments():
        post_comment(comment)
    for n, text in enumerate(["The park is a stupid provocation.", "Only an idiot would visit it.",
                              "I went there last week with my family.", "The ministry should explain the exhibits."]):
        post_comment({"id": f"x{n}", "body": f"<p>{text}</p>", "author": {"id": f"r{n}", "name": f"Reader {n + 10}"},
                      "article": {"id": "a-1", "url": "https://news.example/a-1", "title": "Baku park"}})
    make_user(app, "editor@news.example", role="editor")
    server = serve(app)
    try:
        context, page = new_page(browser, page_errors, viewport=(1280, 1100))
        sign_in(page, server.url, "editor@news.example", PASSWORD)
        page.goto(f"{server.url}/sites/news/policy")
        page.fill("#f-thresholds-identity-attack-review", "0.01")
        page.fill("#f-thresholds-toxicity-reject", "0.8")
        page.fill("#f-banned-words", "k1ke\ntrophypark")
        page.fill("#f-note", "Election week")
        page.click("button[value=preview]")
        page.wait_for_selector("[data-preview-result]")
        page.evaluate("window.scrollTo(0, 0)")
        Path(TARGET).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(TARGET) / "policy.png"), full_page=False)
        if os.environ.get("MODERATION_SCREENSHOTS_FULL"):  # the whole page, for checking by eye
            page.screenshot(path=str(Path(TARGET) / "policy-full.png"), full_page=True)
        context.close()
    finally:
        server.stop()
    assert json.dumps(page_errors) == json.dumps({"dialogs": [], "errors": []})
