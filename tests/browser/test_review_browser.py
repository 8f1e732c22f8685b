"""A moderator works the queue by keyboard in headless Chromium; the publisher sees the result."""
from __future__ import annotations

import pytest

from support import comment_payload
from review_support import PASSWORD, make_user

from .conftest import new_page, sign_in

pytestmark = pytest.mark.browser


def post_borderline(post_comment, count: int) -> dict[str, str]:
    """Comments the tiny model scores as borderline (queued under the default policy): id -> external id."""
    ids = {}
    for n in range(count):
        response = post_comment(comment_payload(f"b{n}", f"<p>Comment {n}: that plan is stupid.</p>",
                                                author={"id": f"reader-{n}", "name": f"Reader {n}"}))
        assert response.json["status"] == "queued", response.json
        ids[str(response.json["id"])] = f"b{n}"
    return ids


def publisher_view(client, site, external_id: str) -> dict:
    response = client.get(f"/api/v1/sites/{site.slug}/comments/{external_id}",
                          headers={"Authorization": f"Bearer {site.api_token}"})
    assert response.status_code == 200
    return response.json


def queue_order(page) -> list[str]:
    return page.eval_on_selector_all("[data-comment]", "items => items.map(item => item.dataset.id)")


def moderator_at_the_queue(app, live, browser, page_errors, post_comment, count: int):
    """A moderator signed in at the queue, with `count` borderline comments: (context, page, ids in order)."""
    make_user(app, "mod@news.example")
    post_borderline(post_comment, count)
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    return context, page, queue_order(page)


def test_moderator_works_the_queue_by_keyboard(app, site, live, browser, page_errors, post_comment, client):
    make_user(app, "mod@news.example")
    external = post_borderline(post_comment, 5)
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    ids = queue_order(page)  # most harmful first, as the server ordered them
    assert sorted(ids) == sorted(external)

    # The first comment is current; `a` approves it and moves on to the next.
    page.wait_for_selector(f'[data-id="{ids[0]}"].current')
    page.keyboard.press("a")
    page.wait_for_selector(f'[data-id="{ids[0]}"].decided')
    page.wait_for_selector(f'[data-id="{ids[1]}"].current')

    # `r` asks for a reason; `3` is hate speech.
    page.keyboard.press("r")
    assert page.is_visible("#reason-picker")
    page.keyboard.press("3")
    page.wait_for_selector(f'[data-id="{ids[1]}"].decided')
    assert "Rejected (Hate speech)." in page.inner_text(f'[data-id="{ids[1]}"] [data-outcome]')

    # `x` selects, `j` moves, `A` approves the selection.
    page.wait_for_selector(f'[data-id="{ids[2]}"].current')
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.inner_text("[data-selected-count]") == "2 selected"
    page.keyboard.press("A")
    page.wait_for_selector(f'[data-id="{ids[3]}"].decided')
    page.wait_for_selector(f'[data-id="{ids[2]}"].decided')
    assert publisher_view(client, site, external[ids[2]])["status"] == "approved"

    # `u` takes the bulk decision back; the comments are queued again.
    page.keyboard.press("u")
    page.wait_for_selector(f'[data-id="{ids[3]}"]:not(.decided)')
    page.wait_for_selector(f'[data-id="{ids[2]}"]:not(.decided)')
    assert publisher_view(client, site, external[ids[2]])["status"] == "queued"
    # ... and approving them again by selection works the same way (undo made the first one current).
    page.wait_for_selector(f'[data-id="{ids[2]}"].current')
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("A")
    page.wait_for_selector(f'[data-id="{ids[3]}"].decided')

    # `?` shows the help; Escape closes it.
    page.keyboard.press("?")
    assert page.is_visible("#help")
    page.keyboard.press("Escape")
    assert not page.is_visible("#help")

    views = [publisher_view(client, site, external[i]) for i in ids]
    assert [v["status"] for v in views] == ["approved", "rejected", "approved", "approved", "queued"]
    assert views[1]["reason_code"] == "hate_speech"
    assert {v["decided_by"] for v in views[:4]} == {"human"}
    assert page_errors == {"dialogs": [], "errors": []}
    context.close()


def test_card_page_rejects_by_keyboard_and_shows_context(app, site, live, browser, page_errors, post_comment, client):
    make_user(app, "mod@news.example")
    post_comment(comment_payload("parent", "<p>The park opened today.</p>"))
    post_comment(comment_payload("child", "<p>What a stupid idea, <a href='https://x.example'>see</a>.</p>",
                                 parent_id="parent"))
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    page.click("text=Reader 1 >> nth=0")  # the only queued comment's card
    page.wait_for_selector(".card-layout")
    assert "The park opened today." in page.inner_text(".parent")
    # A link in the comment opens beside the tool (a new page; this one stays on the card).
    with context.expect_page() as opened:
        page.click("article.card [data-comment-body] a")
    opened.value.close()  # (it cannot load here: no internet)
    assert "/review/comments/" in page.url
    assert page.locator(".bar-fill").count() > 0
    page.wait_for_selector(".badge-mine")  # opening the card claims the comment
    page.keyboard.press("r")
    page.keyboard.press("7")  # spam
    page.wait_for_selector("[data-outcome].ok")
    assert publisher_view(client, site, "child")["reason_code"] == "spam"
    assert page.text_content("[data-status-label]") == "rejected"  # the heading follows the decision
    assert "j for the list" in page.inner_text("#toast")
    page.keyboard.press("u")
    page.wait_for_selector("[data-status-label]:text-is('queued')")
    page.keyboard.press("j")  # past the card's one comment: back to the list
    page.wait_for_url("**/review/?status=queued")
    assert page_errors == {"dialogs": [], "errors": []}
    context.close()


def test_expired_session_is_explained_and_changes_nothing(app, site, live, browser, page_errors, post_comment,
                                                          client):
    make_user(app, "mod@news.example")
    [external_id] = post_borderline(post_comment, 1).values()
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    page.wait_for_selector("[data-comment].current")
    context.clear_cookies()  # as if the session had timed out on the server
    page.keyboard.press("a")
    page.wait_for_selector("#session-banner:not([hidden])")
    assert "session has expired" in page.inner_text("#session-banner").lower()
    assert publisher_view(client, site, external_id)["status"] == "queued"
    page.click("#session-banner a")
    page.wait_for_selector("input[name=password]")
    context.close()


def test_queue_fits_a_phone_screen(app, site, live, browser, page_errors, post_comment):
    make_user(app, "mod@news.example")
    post_borderline(post_comment, 2)
    context, page = new_page(browser, page_errors, viewport=(390, 844))
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    context.close()


def test_the_reason_picker_works_with_a_mouse_or_a_finger_and_closes(app, site, live, browser, page_errors,
                                                                      post_comment):
    """Reasons are buttons (there is no Esc on a phone); Cancel, or a tap outside, closes the picker."""
    context, page, ids = moderator_at_the_queue(app, live, browser, page_errors, post_comment, 3)
    page.click(f'[data-id="{ids[0]}"] [data-select]')
    page.click('#bulk-form button[value="rejected"]')  # no reason chosen in the form: the picker asks
    page.wait_for_selector("#reason-picker:not([hidden])")
    assert page.evaluate("document.activeElement.matches('#reason-picker [data-pick]')")
    page.click("#reason-picker [data-pick-cancel]")
    page.wait_for_selector("#reason-picker", state="hidden")
    assert page.locator(f'[data-id="{ids[0]}"].decided').count() == 0

    page.click('#bulk-form button[value="rejected"]')
    page.wait_for_selector("#reason-picker:not([hidden])")
    page.mouse.click(5, 5)  # outside it
    page.wait_for_selector("#reason-picker", state="hidden")

    page.click('#bulk-form button[value="rejected"]')
    page.click('#reason-picker [data-pick="spam"]')
    page.wait_for_selector(f'[data-id="{ids[0]}"].decided')
    assert page.is_hidden("#reason-picker")
    assert "Rejected (Spam" in page.inner_text(f'[data-id="{ids[0]}"] [data-outcome]')
    assert [r for r in page_errors["errors"]] == []
    context.close()


def test_tabbing_through_a_comments_fields_claims_nothing_until_a_reason_is_chosen(app, site, live, browser,
                                                                                   page_errors, post_comment):
    from moderation.extensions import db
    from moderation.models import Comment
    import sqlalchemy as sa

    context, page, ids = moderator_at_the_queue(app, live, browser, page_errors, post_comment, 2)
    page.focus(f"#reason-{ids[0]}")
    page.keyboard.press("Tab")  # into the note
    page.keyboard.press("Tab")
    page.wait_for_timeout(1000)  # longer than a claim takes to be sent
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)
                                 .where(Comment.claimed_by_user_id.is_not(None))) == 0
    page.select_option(f"#reason-{ids[1]}", "spam")  # choosing a reason is acting on it
    page.wait_for_selector(f'[data-id="{ids[1]}"] .badge-mine')
    with app.app_context():
        claimed = db.session.scalars(sa.select(Comment.id).where(Comment.claimed_by_user_id.is_not(None))).all()
    assert [str(c) for c in claimed] == [ids[1]]
    context.close()


def test_after_a_bulk_decision_the_current_comment_is_one_still_waiting_and_o_opens_at_once(
        app, site, live, browser, page_errors, post_comment):
    context, page, ids = moderator_at_the_queue(app, live, browser, page_errors, post_comment, 3)
    page.wait_for_selector(f'[data-id="{ids[0]}"].current')
    page.keyboard.press("x")  # the current one, selected and approved with the selection
    page.keyboard.press("A")
    page.wait_for_selector(f'[data-id="{ids[0]}"].decided')
    page.wait_for_selector(f'[data-id="{ids[1]}"].current')
    page.keyboard.press("a")  # so `a` acts on a comment that still waits
    page.wait_for_selector(f'[data-id="{ids[1]}"].decided')

    page.goto(live.url + "/review/")  # just loaded: the first comment is current, nothing focused
    first = queue_order(page)[0]
    page.wait_for_selector(f'[data-id="{first}"].current')
    page.keyboard.press("o")
    page.wait_for_url(f"**/review/comments/{first}")
    assert page_errors["errors"] == []
    context.close()


def test_a_long_comment_shows_its_first_lines_in_the_list_and_all_of_it_on_request(
        app, site, live, browser, page_errors, post_comment):
    make_user(app, "mod@news.example")
    long_text = "".join(f"<p>Paragraph {n}: that plan is stupid, and here is why at length.</p>" for n in range(30))
    assert post_comment(comment_payload("long", long_text)).json["status"] == "queued"
    post_borderline(post_comment, 1)
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    long_body = page.locator("[data-comment-body]", has_text="Paragraph 29")
    short_body = page.locator("[data-comment-body]", has_text="Comment 0")
    assert "clamped" in long_body.get_attribute("class") and "clamped" not in short_body.get_attribute("class")
    clamped_height = long_body.bounding_box()["height"]
    page.click("button.show-all")
    assert "clamped" not in long_body.get_attribute("class")
    assert long_body.bounding_box()["height"] > 2 * clamped_height
    assert page.locator("button.show-all").get_attribute("aria-expanded") == "true"
    assert page_errors["errors"] == []
    context.close()
