"""A moderator's first hour in Chromium: no confusing words, no console 404s, counts that add up.

Each test saves screenshots under tests/.artifacts/first-hour/ (ignored by git) for a person to look at.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from review_support import PASSWORD, make_user
from support import comment_payload

from .conftest import new_page, serve, sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / ".artifacts" / "first-hour"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def watch_failed_requests(page) -> list[str]:
    """Every response of 400 or more the page's own loading caused (what the console shows as errors)."""
    failed: list[str] = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    return failed


def post_borderline(post_comment, count: int) -> list[str]:
    ids = []
    for n in range(count):
        response = post_comment(comment_payload(f"b{n}", f"<p>Comment {n}: that plan is stupid.</p>",
                                                author={"id": f"reader-{n}", "name": f"Reader {n}"}))
        assert response.json["status"] == "queued", response.json
        ids.append(str(response.json["id"]))
    return ids


def count_of(page, name: str) -> str:
    return page.inner_text(f'[data-count="{name}"]').strip()


def test_first_visit_signs_in_without_being_told_it_signed_out_and_has_a_favicon(app, live, browser,
                                                                                  page_errors):
    context, page = new_page(browser, page_errors)
    failed = watch_failed_requests(page)
    icons = []
    page.on("response", lambda response: icons.append(response.status) if "favicon" in response.url else None)
    page.goto(live.url + "/")  # a bookmark of the queue, never signed in before
    page.wait_for_selector("input[name=password]")
    shot(page, "login-first-visit")
    assert "signed out" not in page.inner_text("main").lower()
    assert page.locator(".flash").count() == 0
    page.wait_for_timeout(300)  # the browser asks for the icon after the page
    assert icons == [200], icons
    assert failed == []
    context.close()


def test_signing_out_still_says_so(app, live, browser, page_errors):
    make_user(app, "mod@news.example")
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    page.click("text=Sign out")
    page.wait_for_selector("input[name=password]")
    assert "You are signed out." in page.inner_text(".flashes")
    context.close()


def test_forbidden_and_not_found_are_styled_pages_with_a_way_back(app, live, browser, page_errors):
    make_user(app, "mod@news.example")
    context, page = new_page(browser, page_errors)
    failed = watch_failed_requests(page)
    sign_in(page, live.url, "mod@news.example", PASSWORD)

    response = page.goto(live.url + "/admin/callbacks/")  # admins only
    assert response.status == 403
    shot(page, "403")
    assert page.inner_text("h1") == "Forbidden"
    assert "cannot open this page" in page.inner_text("main")
    # The app's stylesheet is applied (Werkzeug's bare page has none) ...
    assert page.eval_on_selector(".error-code", "el => getComputedStyle(el).fontWeight") == "800"
    assert page.locator("header.topbar").count() == 1
    # ... and the way back works.
    page.click("text=Back to the review queue")
    page.wait_for_url(live.url + "/review/")

    response = page.goto(live.url + "/review/comments/999999")
    assert response.status == 404
    shot(page, "404")
    assert page.inner_text("h1") == "Not Found"
    assert page.locator("a.button", has_text="Back to the review queue").count() == 1
    assert sorted(failed) == sorted([f"403 {live.url}/admin/callbacks/", f"404 {live.url}/review/comments/999999"])
    context.close()


def test_a_pending_comment_says_not_scored_yet_in_words(make_app, site, browser, page_errors, client):
    from support import sign

    down = make_app(scorer=False)  # the model's files are missing: comments wait as pending
    body = comment_payload("p1", "<p>The park opened today.</p>")
    import json as _json

    raw = _json.dumps(body).encode()
    response = down.test_client().post(f"/api/v1/sites/{site.slug}/comments", data=raw,
                                       headers={**sign(site.secret, raw), "Content-Type": "application/json"})
    assert response.status_code == 202
    make_user(down, "mod@news.example")
    server = serve(down)
    try:
        context, page = new_page(browser, page_errors)
        sign_in(page, server.url, "mod@news.example", PASSWORD)
        page.goto(server.url + "/review/?status=pending")
        page.wait_for_selector("[data-not-scored]")
        shot(page, "pending-list")
        line = page.inner_text("[data-comment] [data-not-scored]")
        assert line.startswith("Not scored yet: the model's files are missing on this server.")
        assert "checkpoint" not in page.inner_text("main") and "Error" not in page.inner_text("main")

        page.click("[data-comment] .comment-title a")
        page.wait_for_selector(".card-layout")
        shot(page, "pending-card")
        why = page.inner_text(".card-side .panel:has(h2:text('Why it is here'))")
        assert "Not scored yet: the model's files are missing on this server." in why
        history = page.inner_text(".history")
        assert "Not scored yet by the scorer (the model's files are missing on this server)" in history
        assert "checkpoint" not in page.inner_text("main")
        context.close()
    finally:
        server.stop()


def test_moving_with_j_claims_nothing_and_acting_claims_the_comment(app, site, live, browser, page_errors,
                                                                    post_comment):
    from moderation.models import Comment

    make_user(app, "mod@news.example")
    ids = post_borderline(post_comment, 3)
    context, page = new_page(browser, page_errors)
    failed = watch_failed_requests(page)
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    page.wait_for_selector("[data-comment].current")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.wait_for_timeout(1500)  # longer than any delay a claim could have waited for
    assert page.locator(".badge-mine:visible").count() == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)
                                 .where(Comment.claimed_by_user_id.is_not(None))) == 0
    # Starting to reject (the reason picker) is acting on it: now it is claimed.
    current = page.eval_on_selector("[data-comment].current", "el => el.dataset.id")
    page.keyboard.press("r")
    page.wait_for_selector(f'[data-id="{current}"] .badge-mine')
    page.keyboard.press("Escape")
    with app.app_context():
        claimed = db.session.scalars(sa.select(Comment.id).where(Comment.claimed_by_user_id.is_not(None))).all()
    assert [str(c) for c in claimed] == [current] and current in ids
    assert page_errors == {"dialogs": [], "errors": []}
    assert failed == []  # no 404 in the console: the favicon is the app's
    context.close()


def test_counts_follow_keyboard_decisions_and_page_done_only_when_done(app, site, live, browser, page_errors,
                                                                       post_comment):
    make_user(app, "mod@news.example")
    post_borderline(post_comment, 3)
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    page.wait_for_selector("[data-comment].current")
    ids = page.eval_on_selector_all("[data-comment]", "items => items.map(item => item.dataset.id)")
    assert (count_of(page, "queued"), count_of(page, "approved")) == ("3", "0")

    page.keyboard.press("j")  # skip the first, decide the second
    page.keyboard.press("a")
    page.wait_for_selector(f'[data-id="{ids[1]}"].decided')
    assert (count_of(page, "queued"), count_of(page, "approved")) == ("2", "1")
    page.wait_for_selector(f'[data-id="{ids[2]}"].current')
    page.keyboard.press("r")
    page.keyboard.press("7")  # spam
    page.wait_for_selector(f'[data-id="{ids[2]}"].decided')
    assert (count_of(page, "queued"), count_of(page, "rejected")) == ("1", "1")
    # `r` claimed it; decided, it shows no "Yours until" any more.
    assert page.locator(f'[data-id="{ids[2]}"] .badge-mine:visible').count() == 0
    # The first comment still waits: back to it, not "Page done".
    page.wait_for_selector(f'[data-id="{ids[0]}"].current')
    assert "Page done" not in page.inner_text("#toast")
    shot(page, "counts-one-left")
    page.keyboard.press("a")
    page.wait_for_selector(f'[data-id="{ids[0]}"].decided')
    page.wait_for_selector("#toast:has-text('Page done')")
    assert (count_of(page, "queued"), count_of(page, "approved")) == ("0", "2")
    # Undo gives the count back.
    page.keyboard.press("u")
    page.wait_for_selector(f'[data-id="{ids[0]}"]:not(.decided)')
    assert (count_of(page, "queued"), count_of(page, "approved")) == ("1", "1")
    shot(page, "counts-after-undo")
    assert page_errors == {"dialogs": [], "errors": []}
    context.close()


def test_word_list_holds_show_no_model_score_and_say_word_list(app, site, live, browser, page_errors,
                                                               post_comment):
    from moderation.policy_versions import save_policy
    from moderation.sites import require

    with app.app_context():
        save_policy(require("news"), {"suspect_words": ["cowards"]}, actor_type="cli")
        db.session.commit()
    words = post_comment(comment_payload("w1", "<p>Those cowards left early.</p>"))
    assert words.json["status"] == "queued" and words.json["reasons"][0]["code"] == "suspect_word"
    [model] = post_borderline(post_comment, 1)
    make_user(app, "mod@news.example")
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    held = page.locator(f'[data-id="{words.json["id"]}"]')
    scored = page.locator(f'[data-id="{model}"]')
    shot(page, "queue-word-list-and-model")
    assert held.locator("[data-model-score]").count() == 0
    assert held.locator("[data-held-by]").inner_text() == "Word list"
    assert "1.00" not in held.locator(".comment-head").inner_text()
    score = float(scored.locator("[data-model-score]").inner_text())
    assert 0 < score < 1

    held.locator(".comment-title a").click()
    page.wait_for_selector(".card-layout")
    shot(page, "card-word-list")
    assert "Held by the word list." in page.inner_text(".card-side")
    history = page.inner_text(".history")
    assert "Held for review by word list (Suspect word)" in history
    assert "by model" not in history
    context.close()


def test_callbacks_page_says_what_it_is_for(app, site, live, browser, page_errors):
    make_user(app, "admin@news.example", role="admin")
    context, page = new_page(browser, page_errors)
    failed = watch_failed_requests(page)
    sign_in(page, live.url, "admin@news.example", PASSWORD)
    page.click("nav.topnav >> text=Callbacks")
    page.wait_for_selector("h2:text('What this page is for')")
    shot(page, "callbacks")
    text = page.inner_text("main")
    assert "POSTs it to the site's callback" in text
    for state in ("Failed", "Pending", "Delivered", "Paused"):
        assert page.locator(".states dt", has_text=state).count() == 1, state
    assert failed == []
    context.close()
