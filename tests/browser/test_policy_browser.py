"""The editors' policy page in headless Chromium: preview, save, the next comment follows; restore; moderators refused."""
from __future__ import annotations

import pytest

from review_support import PASSWORD, make_user
from support import comment_payload

from .conftest import new_page, sign_in

pytestmark = pytest.mark.browser
IDENTITY_REVIEW = "#f-thresholds-identity-attack-review"


def test_editor_previews_saves_and_the_next_comment_follows(app, site, live, browser, page_errors, post_comment):
    for n, text in enumerate(["A calm remark about the park.", "I visited Baku and liked it.",
                              "The government made a stupid decision."]):
        assert post_comment(comment_payload(f"c{n}", f"<p>{text}</p>")).json["policy_version"] == 1
    make_user(app, "ed@news.example", role="editor")
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "ed@news.example", PASSWORD)
    page.click("nav.topnav >> text=Policy")
    page.wait_for_url(f"{live.url}/sites/news/policy")

    # The slider and the number move together (policy.js); the number is the form field.
    slider = page.locator(f'input[data-slider-for="{IDENTITY_REVIEW[1:]}"]')
    assert slider.is_visible() and slider.input_value() == "0.6"
    page.fill(IDENTITY_REVIEW, "0.01")
    assert slider.input_value() == "0.01"
    slider.fill("0.05")  # dragging the slider writes the number
    assert page.input_value(IDENTITY_REVIEW) == "0.05"
    page.fill(IDENTITY_REVIEW, "0.01")
    # reject below review is flagged while typing
    page.fill("#f-thresholds-identity-attack-reject", "0.005")
    assert "Reject is below review" in page.inner_text("table.thresholds")
    page.fill("#f-thresholds-identity-attack-reject", "0.9")

    page.click("button[value=preview]")
    page.wait_for_selector("[data-preview-result]")
    preview = page.inner_text("#preview")
    # the two calm comments (identity attack about 0.02) would now wait for a moderator
    assert page.inner_text('tr[data-outcome="approved"] [data-count="current"]') == "2"
    assert page.inner_text('tr[data-outcome="approved"] [data-count="proposed"]') == "0"
    assert page.inner_text('tr[data-outcome="queued"] [data-count="proposed"]') == "3"
    assert "2 comments would be decided differently" in preview
    assert page.locator(".changed-comments a").count() == 2
    assert page.input_value(IDENTITY_REVIEW) == "0.01"  # the proposal is kept for saving

    page.fill("#f-note", "Election week: hold identity attacks early")
    page.click("button[value=save]")
    page.wait_for_selector(".flash-success")
    assert "Saved policy version 2" in page.inner_text(".flash-success")
    history = page.inner_text("#history")
    assert "Identity attack review: 0.6 → 0.01" in history and "by ed@news.example" in history

    response = post_comment(comment_payload("next", "<p>Another calm remark about the park.</p>"))
    assert response.json["policy_version"] == 2 and response.json["status"] == "queued"
    assert [r["code"] for r in response.json["reasons"]] == ["identity_attack"]
    assert page_errors == {"dialogs": [], "errors": []}
    context.close()


def test_editor_restores_an_earlier_version(app, site, live, browser, page_errors, post_comment):
    from moderation.extensions import db
    from moderation.policy_versions import save_policy
    from moderation.sites import require

    with app.app_context():
        save_policy(require("news"), {"premoderation": True}, actor_type="cli", author="chief@news.example",
                    note="hold everything over the weekend")
        db.session.commit()
    make_user(app, "ed@news.example", role="editor")
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "ed@news.example", PASSWORD)
    page.goto(f"{live.url}/sites/news/policy")
    assert page.is_checked("#f-premoderation")
    assert "hold everything over the weekend" in page.inner_text("#history")
    page.click("text=Restore version 1")
    page.wait_for_selector(".flash-success")
    assert "Restored version 1 as the new version 3" in page.inner_text(".flash-success")
    assert not page.is_checked("#f-premoderation")
    current = page.inner_text('.version[data-version="3"]')
    assert "restored from version 1" in current and "Pre-moderation off" in current and "current" in current
    assert post_comment(comment_payload("c1", "<p>A calm remark.</p>")).json["status"] == "approved"
    assert page_errors == {"dialogs": [], "errors": []}
    context.close()


def test_moderator_is_refused(app, site, live, browser, page_errors):
    make_user(app, "mod@news.example")
    context, page = new_page(browser, page_errors)
    sign_in(page, live.url, "mod@news.example", PASSWORD)
    assert page.locator("nav.topnav >> text=Policy").count() == 0
    response = page.goto(f"{live.url}/sites/news/policy")
    assert response.status == 403
    assert page.locator("[data-policy-form]").count() == 0
    assert page.goto(f"{live.url}/policy").status == 403
    context.close()


def test_on_a_phone_no_page_pans_sideways_and_each_threshold_says_its_level(app, site, live, browser, page_errors,
                                                                             post_comment):
    """390 px wide: wide tables scroll inside themselves; the policy form's fields keep their labels."""
    from perspective_support import new_key

    for n in range(3):
        post_comment(comment_payload(f"c{n}", f"<p>Comment {n}: that plan is stupid.</p>"))
    new_key(app)
    make_user(app, "root@news.example", role="admin")
    context, page = new_page(browser, page_errors, viewport=(390, 844))
    sign_in(page, live.url, "root@news.example", PASSWORD)
    for path in ("/review/", "/sites/news/policy", "/sites/news/policy/insights", "/admin/apikeys/",
                 "/admin/callbacks/"):
        page.goto(live.url + path)
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], f"{path} is {width[0]} px wide on a {width[1]} px screen"
    page.goto(live.url + "/sites/news/policy")
    label = page.evaluate("getComputedStyle(document.querySelector('table.thresholds td'), '::before').content")
    assert label == '"Review at"'
    assert page_errors["errors"] == []
    context.close()
