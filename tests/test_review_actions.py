"""Moderator actions: approve, reject with a reason, bulk, claims, undo, conflicts; audit and outbox."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, OutboxMessage, utcnow
from review_support import (Reviewer, add_comment, audit_actions, comment_state, make_user, moderator,  # noqa: F401
                            outbox_count)


def with_callback(app, slug: str = "news") -> None:
    from moderation.sites import require

    with app.app_context():
        require(slug).callback_url = "https://publisher.example/hooks"
        db.session.commit()


def api_state(app, site, comment_id: int) -> dict:
    with app.app_context():
        external_id = db.session.get(Comment, comment_id).external_id
    response = app.test_client().get(f"/api/v1/sites/{site.slug}/comments/{external_id}",
                                     headers={"Authorization": f"Bearer {site.api_token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_approve_is_audited_queued_for_the_publisher_and_visible_by_api(app, site, moderator):
    with_callback(app)
    comment_id = add_comment(app)
    response = moderator.decide(comment_id, "approved")
    assert response.status_code == 200 and response.json["ok"] is True
    assert response.json["results"][0]["status"] == "approved"
    state = api_state(app, site, comment_id)
    assert state["status"] == "approved" and state["decided_by"] == "human"
    assert audit_actions(app, comment_id) == ["comment.moderated"]
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.comment_id == comment_id))
        assert (entry.actor_type, entry.actor_id, entry.from_status, entry.to_status) == (
            "user", "mod@news.example", "queued", "approved")
        message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.comment_id == comment_id))
        assert message.event_type == "comment.moderated"
        assert message.payload["data"]["status"] == "approved"


def test_reject_needs_a_reason_code_and_keeps_the_note(app, site, moderator):
    comment_id = add_comment(app)
    missing = moderator.decide(comment_id, "rejected")
    assert missing.status_code == 400 and "reason code" in missing.json["message"]
    unknown = moderator.decide(comment_id, "rejected", reason="looks-bad")
    assert unknown.status_code == 400
    assert comment_state(app, comment_id)["status"] == "queued"
    done = moderator.decide(comment_id, "rejected", reason="ethnic_slur", note="slur against a people")
    assert done.status_code == 200 and done.json["message"] == "Rejected (Ethnic slur)."
    state = comment_state(app, comment_id)
    assert (state["status"], state["reason_code"], state["moderator_note"]) == (
        "rejected", "ethnic_slur", "slur against a people")
    assert api_state(app, site, comment_id)["reason_code"] == "ethnic_slur"


def test_plain_form_post_redirects_back_with_a_message(app, site, moderator):
    comment_id = add_comment(app)
    response = moderator.decide(comment_id, "approved", fetch=False, follow_redirects=True)
    assert response.status_code == 200
    assert "Approved." in response.get_data(as_text=True)
    assert comment_state(app, comment_id)["status"] == "approved"


def test_a_decision_made_by_someone_else_is_not_overwritten(app, site, moderator):
    make_user(app, "other@news.example")
    other = Reviewer(app.test_client(), "other@news.example")
    comment_id = add_comment(app)
    assert other.decide(comment_id, "approved").status_code == 200
    late = moderator.decide(comment_id, "rejected", reason="spam")
    assert late.status_code == 409
    assert late.json["message"].startswith("Already approved by other@news.example")
    assert comment_state(app, comment_id)["status"] == "approved"
    assert audit_actions(app, comment_id) == ["comment.moderated"]


def test_decided_comments_can_be_overturned_from_their_list(app, site, moderator):
    comment_id = add_comment(app, status="approved", decided_by="model")
    response = moderator.decide(comment_id, "rejected", expected="approved", reason="threat")
    assert response.status_code == 200
    assert comment_state(app, comment_id)["status"] == "rejected"


def test_a_claim_keeps_others_off_until_it_expires(app, site, moderator):
    make_user(app, "other@news.example")
    other = Reviewer(app.test_client(), "other@news.example")
    comment_id = add_comment(app)
    claimed = moderator.post(f"/review/comments/{comment_id}/claim")
    assert claimed.status_code == 200 and claimed.json["ok"]
    refused = other.post(f"/review/comments/{comment_id}/claim")
    assert refused.status_code == 409 and "mod@news.example is reviewing" in refused.json["message"]
    blocked = other.decide(comment_id, "approved")
    assert blocked.status_code == 409 and "is reviewing this comment" in blocked.json["message"]
    assert "mod@news.example is reviewing this" in other.client.get("/review/").get_data(as_text=True)
    assert comment_state(app, comment_id)["status"] == "queued"
    with app.app_context():
        db.session.get(Comment, comment_id).claimed_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert other.decide(comment_id, "approved").status_code == 200


def test_claiming_another_releases_the_previous_one(app, site, moderator):
    first, second = add_comment(app, external_id="c1"), add_comment(app, external_id="c2")
    moderator.post(f"/review/comments/{first}/claim")
    moderator.post(f"/review/comments/{second}/claim", {"release": first})
    assert comment_state(app, first)["claimed_by_user_id"] is None
    assert comment_state(app, second)["claimed_by_user_id"] is not None


def test_a_decision_releases_the_claim(app, site, moderator):
    comment_id = add_comment(app)
    moderator.post(f"/review/comments/{comment_id}/claim")
    moderator.decide(comment_id, "approved")
    assert comment_state(app, comment_id)["claimed_by_user_id"] is None


def test_undo_restores_the_comment_and_tells_the_publisher(app, site, moderator):
    with_callback(app)
    comment_id = add_comment(app)
    moderator.decide(comment_id, "rejected", reason="spam")
    undone = moderator.post("/review/undo")
    assert undone.status_code == 200 and undone.json["results"][0]["status"] == "queued"
    state = comment_state(app, comment_id)
    assert (state["status"], state["reason_code"], state["decided_by"]) == ("queued", None, None)
    assert api_state(app, site, comment_id)["status"] == "queued"
    assert audit_actions(app, comment_id) == ["comment.moderated", "comment.decision_undone"]
    assert outbox_count(app, comment_id) == 2
    again = moderator.post("/review/undo")
    assert again.status_code == 409 and "Nothing to undo" in again.json["message"]


def test_undo_restores_an_overturned_model_decision(app, site, moderator):
    decided_at = utcnow() - timedelta(days=1)
    comment_id = add_comment(app, status="approved", decided_by="model", decided_at=decided_at)
    moderator.decide(comment_id, "rejected", expected="approved", reason="threat")
    moderator.post("/review/undo")
    state = comment_state(app, comment_id)
    assert (state["status"], state["decided_by"], state["reason_code"]) == ("approved", "model", None)


def test_undo_window_is_short(make_app, site):
    app = make_app(REVIEW_UNDO_SECONDS=0)
    make_user(app, "mod@news.example")
    reviewer = Reviewer(app.test_client(), "mod@news.example")
    comment_id = add_comment(app)
    reviewer.decide(comment_id, "approved")
    assert reviewer.post("/review/undo").status_code == 409
    assert comment_state(app, comment_id)["status"] == "approved"


def test_undo_is_only_for_ones_own_decision(app, site, moderator):
    make_user(app, "other@news.example")
    other = Reviewer(app.test_client(), "other@news.example")
    comment_id = add_comment(app)
    moderator.decide(comment_id, "approved")
    assert other.post("/review/undo").status_code == 409
    assert comment_state(app, comment_id)["status"] == "approved"


def test_undo_does_not_overwrite_a_later_change(app, site, moderator):
    make_user(app, "other@news.example")
    other = Reviewer(app.test_client(), "other@news.example")
    comment_id = add_comment(app)
    moderator.decide(comment_id, "approved")
    assert other.decide(comment_id, "rejected", expected="approved", reason="abusive").status_code == 200
    response = moderator.post("/review/undo")
    assert response.status_code == 200 and response.json["results"][0]["ok"] is False
    assert "changed after your decision" in response.json["message"]
    assert comment_state(app, comment_id)["status"] == "rejected"


def test_bulk_decides_the_selection_and_reports_refusals(app, site, moderator):
    make_user(app, "other@news.example")
    other = Reviewer(app.test_client(), "other@news.example")
    ids = [add_comment(app, external_id=f"c{n}") for n in range(3)]
    other.decide(ids[1], "rejected", reason="spam")
    response = moderator.post("/review/bulk", {"ids": ids, "decision": "approved", "expected_status": "queued"})
    assert response.status_code == 200 and response.json["ok"] is False
    assert [r["ok"] for r in response.json["results"]] == [True, False, True]
    assert response.json["message"].startswith("Approved: 2 of 3 comments.")
    assert [comment_state(app, i)["status"] for i in ids] == ["approved", "rejected", "approved"]
    undone = moderator.post("/review/undo")  # one undo takes back the whole selection
    assert undone.json["message"] == "Undone: 2 of 2 comments."
    assert [r["id"] for r in undone.json["results"] if r["ok"]] == [ids[0], ids[2]]
    assert [comment_state(app, i)["status"] for i in ids] == ["queued", "rejected", "queued"]


def test_bulk_reject_needs_a_reason_and_a_selection(app, site, moderator):
    ids = [add_comment(app, external_id=f"c{n}") for n in range(2)]
    assert moderator.post("/review/bulk", {"ids": ids, "decision": "rejected",
                                           "expected_status": "queued"}).status_code == 400
    assert moderator.post("/review/bulk", {"decision": "approved", "expected_status": "queued"}).status_code == 400
    assert moderator.post("/review/bulk", {"ids": ["1; drop"], "decision": "approved",
                                           "expected_status": "queued"}).status_code == 400
    ok = moderator.post("/review/bulk", {"ids": ids, "decision": "rejected", "reason_code": "off_topic",
                                         "expected_status": "queued"})
    assert ok.status_code == 200 and ok.json["ok"] is True
    assert {comment_state(app, i)["reason_code"] for i in ids} == {"off_topic"}


def test_pending_comments_can_be_decided_by_hand(app, site, moderator):
    comment_id = add_comment(app, status="pending", reasons=[], scores=None, harm=0.0)
    wrong_list = moderator.decide(comment_id, "approved", expected="queued")
    assert wrong_list.status_code == 409 and "now pending" in wrong_list.json["message"]
    assert moderator.decide(comment_id, "approved", expected="pending").status_code == 200
    assert api_state(app, site, comment_id)["status"] == "approved"
