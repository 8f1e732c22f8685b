"""Site scoping and CSRF: a moderator of one site can neither see nor act on another's comments."""
from __future__ import annotations

from review_support import Reviewer, add_comment, audit_actions, comment_state, make_user, moderator  # noqa: F401
from support import make_site


def test_anonymous_visitors_are_sent_to_sign_in(app, client, site):
    comment_id = add_comment(app)
    response = client.get("/review/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get(f"/review/comments/{comment_id}").status_code == 302
    fetch = client.post(f"/review/comments/{comment_id}/decision", headers={"Accept": "application/json"},
                        data={"decision": "approved", "expected_status": "queued"})
    assert fetch.status_code == 401 and fetch.json["error"] == "session_expired"
    assert comment_state(app, comment_id)["status"] == "queued"


def test_moderator_sees_only_their_sites(app, site, moderator):
    make_site(app, "other")
    mine = add_comment(app, "news", "c-mine", text="Mine", html="<p>Mine here</p>")
    theirs = add_comment(app, "other", "c-theirs", text="Theirs", html="<p>Theirs there</p>")
    queue = moderator.client.get("/review/").get_data(as_text=True)
    assert f'data-id="{mine}"' in queue and "Mine here" in queue
    assert f'data-id="{theirs}"' not in queue and "Theirs there" not in queue
    assert moderator.client.get(f"/review/comments/{theirs}").status_code == 404
    assert moderator.client.get("/review/?site=other").status_code == 404
    assert moderator.client.get(f"/review/comments/{mine}").status_code == 200


def test_crafted_requests_for_another_sites_comment_change_nothing(app, site, moderator):
    make_site(app, "other")
    theirs = add_comment(app, "other", "c-theirs")
    before = comment_state(app, theirs)
    assert moderator.decide(theirs, "approved").status_code == 404
    assert moderator.decide(theirs, "rejected", reason="spam").status_code == 404
    assert moderator.post(f"/review/comments/{theirs}/claim").status_code == 404
    bulk = moderator.post("/review/bulk", {"ids": [theirs], "decision": "approved", "expected_status": "queued"})
    assert bulk.status_code == 200 and bulk.json["results"][0]["ok"] is False
    assert comment_state(app, theirs) == before
    assert audit_actions(app, theirs) == []


def test_admin_sees_every_site(app, site):
    make_site(app, "other")
    theirs = add_comment(app, "other", "c-theirs", html="<p>Other site text</p>")
    make_user(app, "admin@example.org", role="admin")
    admin = Reviewer(app.test_client(), "admin@example.org")
    assert "Other site text" in admin.client.get("/review/").get_data(as_text=True)
    assert admin.decide(theirs, "approved").status_code == 200


def test_editor_reviews_their_own_site_only(app, site):
    make_site(app, "other")
    mine = add_comment(app, "news", "c1")
    theirs = add_comment(app, "other", "c2")
    make_user(app, "editor@news.example", role="editor")
    editor = Reviewer(app.test_client(), "editor@news.example")
    assert editor.decide(mine, "approved").status_code == 200
    assert editor.decide(theirs, "approved").status_code == 404


def test_actions_without_csrf_token_are_refused(app, site, moderator):
    comment_id = add_comment(app)
    for path, data in (
        (f"/review/comments/{comment_id}/decision", {"decision": "approved", "expected_status": "queued"}),
        ("/review/bulk", {"ids": [comment_id], "decision": "approved", "expected_status": "queued"}),
        (f"/review/comments/{comment_id}/claim", {}),
        ("/review/undo", {}),
    ):
        form = moderator.client.post(path, data=data)
        assert form.status_code == 400, path
        fetch = moderator.client.post(path, data=data, headers={"Accept": "application/json"})
        assert fetch.status_code == 400 and fetch.json["error"] == "csrf", path
        wrong = moderator.client.post(path, data=data, headers={"X-CSRFToken": "forged"})
        assert wrong.status_code == 400, path
    assert comment_state(app, comment_id)["status"] == "queued"
    assert comment_state(app, comment_id)["claimed_by_user_id"] is None
    assert audit_actions(app, comment_id) == []


def test_the_decision_form_carries_the_token(app, site, moderator):
    add_comment(app)
    page = moderator.client.get("/review/").get_data(as_text=True)
    forms = page.count("<form method=\"post\"")
    assert forms >= 3 and page.count('name="csrf_token"') >= forms
