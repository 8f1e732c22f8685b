"""README screenshots of the queue and the card (runs only when asked, to keep the suite quiet):

    MODERATION_SCREENSHOTS_DIR=docs/screenshots .venv/bin/python -m pytest tests/browser/test_screenshots.py
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from moderation.extensions import db
from review_support import PASSWORD, make_user

from .conftest import new_page, serve, sign_in

pytestmark = pytest.mark.browser
TARGET = os.environ.get("MODERATION_SCREENSHOTS_DIR")


@pytest.mark.skipif(not TARGET, reason="set MODERATION_SCREENSHOTS_DIR to write the README screenshots")
def test_take_screenshots(app, site, browser, page_errors, post_comment):
    from moderation.demo import sample_comments
    from moderation.policy_versions import save_policy
    from moderation.sites import require

    with app.app_context():
        # Suspect words make the sample comments wait for a human, with the words marked.
        save_policy(require("news"), {"suspect_words": ["barbaric", "cowards", "traitors", "dictator", "shame"]},
                    actor_type="cli")
        db.session.commit()
    for comment in sample_comments():
        comment = dict(comment, article={"id": "baku-park", "url": "https://news.example/baku-trophy-park",
                                         "title": "Baku opens a military trophy park"})
        post_comment(comment)
    post_comment({"id": "c6", "article": {"id": "baku-park", "url": "https://news.example/baku-trophy-park",
                                          "title": "Baku opens a military trophy park"},
                  "author": {"id": "reader-3", "name": "Reader 3"}, "parent_id": "c3",
                  "body": "<p>Only cowards would defend this stupid park. "
                          "<a href='https://news.example/baku-trophy-park'>Read the article</a> again.</p>"})
    make_user(app, "moderator@news.example")
    server = serve(app)
    try:
        context, page = new_page(browser, page_errors, viewport=(1280, 1000))
        sign_in(page, server.url, "moderator@news.example", PASSWORD)
        Path(TARGET).mkdir(parents=True, exist_ok=True)
        page.wait_for_selector("[data-comment].current")
        page.screenshot(path=str(Path(TARGET) / "queue.png"), full_page=False)
        page.goto(server.url + "/review/")
        page.click("[data-comment]:has-text('Only cowards') .comment-title a")
        page.wait_for_selector(".card-layout")
        page.screenshot(path=str(Path(TARGET) / "card.png"), full_page=True)
        page.wait_for_selector(".badge-mine")
        page.keyboard.press("?")
        page.screenshot(path=str(Path(TARGET) / "help.png"))
        mobile, phone = new_page(browser, page_errors, viewport=(390, 844))
        sign_in(phone, server.url, "moderator@news.example", PASSWORD)
        phone.screenshot(path=str(Path(TARGET) / "queue-phone.png"))
        context.close()
        mobile.close()
    finally:
        server.stop()
    assert json.dumps(page_errors) == json.dumps({"dialogs": [], "errors": []})
