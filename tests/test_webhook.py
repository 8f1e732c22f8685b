"""The signed comment webhook: the contract's answers, refusals that store nothing, idempotency."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from support import comment_payload, make_site, sign, signed_post
from moderation.extensions import db
from moderation.models import AuditEntry, Comment, CommentRevision


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["detail"]
    return body


def test_accepted_comment_has_the_contract_shape(app, post_comment):
    response = post_comment(comment_payload("c1", "<p>Armenians are <b>rightfully</b> angry.</p>"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) >= {"id", "external_id", "status", "scores", "reasons", "matches", "html",
                         "model", "policy_version"}
    assert body["external_id"] == "c1"
    assert body["status"] in ("approved", "queued", "rejected")
    assert body["model"] == "detoxify-unbiased"
    assert body["policy_version"] == 1
    assert "toxicity" in body["scores"] and "identity_attack" in body["scores"]
    assert body["html"] == "<p>Armenians are <b>rightfully</b> angry.</p>"
    assert count(app, Comment) == 1 and count(app, CommentRevision) == 1


def test_scorer_down_means_pending_202_never_approved(make_app):
    app = make_app(scorer=False)
    client = app.test_client()
    credentials = make_site(app, "down")
    response = signed_post(client, "down", credentials.secret, comment_payload("c9", "<p>hello there, friends</p>"))
    assert response.status_code == 202
    assert response.get_json()["status"] == "pending"
    with app.app_context():
        comment = db.session.scalar(sa.select(Comment))
        assert comment.status == "pending" and comment.scoring_error
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["scorer"]["loaded"] is False and ready.get_json()["scorer"]["reason"]


def test_redelivery_returns_stored_result_and_does_no_work(app, post_comment):
    first = post_comment(comment_payload("c2", "<p>First words.</p>"))
    again = post_comment(comment_payload("c2", "<p>First words.</p>"))
    assert again.status_code == first.status_code
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert count(app, CommentRevision) == 1
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("comment.received") == 1 and actions.count("comment.assessed") == 1


def test_edit_is_a_new_revision(app, post_comment):
    post_comment(comment_payload("c3", "<p>First words.</p>"))
    edited = post_comment(comment_payload("c3", "<p>Second, edited words.</p>"))
    assert edited.status_code == 200
    assert edited.get_json()["revision"] == 2
    assert edited.get_json()["html"] == "<p>Second, edited words.</p>"
    with app.app_context():
        revisions = db.session.scalars(sa.select(CommentRevision).order_by(CommentRevision.number)).all()
        assert [r.number for r in revisions] == [1, 2]
        assert revisions[0].body == "<p>First words.</p>"
    assert count(app, Comment) == 1


def test_sanitised_html_is_stored_and_returned(post_comment):
    response = post_comment(comment_payload("c4", '<p onclick="x()">Hi <script>alert(1)</script>'
                                                   '<a href="javascript:alert(1)">link</a></p>'))
    html = response.get_json()["html"]
    assert "script" not in html and "onclick" not in html and "javascript" not in html


@pytest.mark.parametrize("mutate, expected_detail", [
    (lambda h: h.pop("webhook-signature"), "missing header"),
    (lambda h: h.update({"webhook-signature": "v1,AAAA"}), "signature"),
    (lambda h: h.update({"webhook-signature": "garbage"}), "malformed"),
    (lambda h: h.update({"webhook-timestamp": str(int(datetime.now(timezone.utc).timestamp()) - 600)}),
     "too old"),
])
def test_bad_signatures_are_401_and_store_nothing(app, client, site, mutate, expected_detail):
    body = json.dumps(comment_payload("c5")).encode()
    headers = sign(site.secret, body) | {"Content-Type": "application/json"}
    mutate(headers)
    response = client.post(f"/api/v1/sites/{site.slug}/comments", data=body, headers=headers)
    problem = assert_problem(response, 401)
    assert expected_detail in problem["detail"].lower()
    assert count(app, Comment) == 0


def test_old_timestamp_signed_correctly_is_refused(app, client, site):
    body = json.dumps(comment_payload("c6")).encode()
    headers = sign(site.secret, body, when=datetime.now(timezone.utc) - timedelta(minutes=6))
    response = client.post(f"/api/v1/sites/{site.slug}/comments", data=body,
                           headers=headers | {"Content-Type": "application/json"})
    assert_problem(response, 401)
    assert count(app, Comment) == 0


def test_secret_of_another_site_is_refused(app, client, site):
    from moderation.sites import new_webhook_secret

    body = json.dumps(comment_payload("c7")).encode()
    headers = sign(new_webhook_secret(), body) | {"Content-Type": "application/json"}
    assert_problem(client.post(f"/api/v1/sites/{site.slug}/comments", data=body, headers=headers), 401)


def test_rotated_secret_keeps_working_during_grace(app, client, site, post_comment):
    from moderation.sites import by_slug, update_site

    with app.app_context():
        new_secret = update_site(by_slug(site.slug), rotate_secret=True)
        db.session.commit()
    assert post_comment(comment_payload("r1"), secret=site.secret).status_code in (200, 202)
    assert post_comment(comment_payload("r2"), secret=new_secret).status_code in (200, 202)
    with app.app_context():
        s = by_slug(site.slug)
        s.previous_secret_expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        db.session.commit()
    assert_problem(post_comment(comment_payload("r3"), secret=site.secret), 401)


def test_malformed_json_is_400(app, post_comment):
    problem = assert_problem(post_comment(None, raw=b'{"id": "c1", '), 400)
    assert "not valid JSON" in problem["detail"]
    assert count(app, Comment) == 0


def test_invalid_fields_are_422_with_each_field(app, post_comment):
    data = comment_payload("", body=12, created_at="yesterday", language="not a language!")
    data["article"] = {"url": "ftp://x"}
    problem = assert_problem(post_comment(data), 422)
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {"id", "body", "created_at", "language", "article.url"}
    assert count(app, Comment) == 0


def test_wrong_content_type_is_415(app, post_comment):
    assert_problem(post_comment(comment_payload("c8"), content_type="text/plain"), 415)
    assert count(app, Comment) == 0


def test_unknown_site_is_404(app, post_comment):
    assert_problem(post_comment(comment_payload("c8"), slug="nope"), 404)


def test_body_too_large_is_413(make_app):
    app = make_app(MAX_BODY_BYTES=2048)
    credentials = make_site(app, "small")
    big = comment_payload("big", "<p>" + "word " * 2000 + "</p>")
    assert_problem(signed_post(app.test_client(), "small", credentials.secret, big), 413)
    assert count(app, Comment) == 0


def test_rate_limit_is_429_problem(make_app):
    app = make_app(RATELIMIT_WEBHOOK="2 per minute")
    client = app.test_client()
    credentials = make_site(app, "busy")
    statuses = [signed_post(client, "busy", credentials.secret, comment_payload(f"rl{n}")) for n in range(3)]
    assert [r.status_code for r in statuses[:2]] != [429, 429]
    problem = assert_problem(statuses[2], 429)
    assert "rate limit" in problem["detail"]
    assert statuses[2].headers.get("Retry-After")
    assert count(app, Comment) == 2


def test_forged_requests_do_not_use_up_the_site_quota(make_app):
    app = make_app(RATELIMIT_WEBHOOK="2 per minute")
    from moderation.sites import new_webhook_secret

    client = app.test_client()
    credentials = make_site(app, "target")
    forged_secret = new_webhook_secret()
    for n in range(5):
        assert signed_post(client, "target", forged_secret, comment_payload(f"f{n}")).status_code == 401
    assert signed_post(client, "target", credentials.secret, comment_payload("real")).status_code == 200


def test_get_comment_needs_the_site_token(client, site, post_comment):
    post_comment(comment_payload("g1"))
    url = f"/api/v1/sites/{site.slug}/comments/g1"
    assert_problem(client.get(url), 401)
    assert_problem(client.get(url, headers={"Authorization": "Bearer wrong"}), 401)
    response = client.get(url, headers={"Authorization": f"Bearer {site.api_token}"})
    assert response.status_code == 200
    assert response.get_json()["external_id"] == "g1"
    missing = client.get(url + "x", headers={"Authorization": f"Bearer {site.api_token}"})
    assert_problem(missing, 404)


def test_numeric_ids_are_accepted_as_text(post_comment):
    response = post_comment(comment_payload(42))
    assert response.status_code in (200, 202)
    assert response.get_json()["external_id"] == "42"


def test_body_with_absurd_nesting_is_422(app, post_comment):
    problem = assert_problem(post_comment(comment_payload("deep", "<b>" * 5000 + "x")), 422)
    assert problem["errors"][0]["field"] == "body" and "HTML tags" in problem["errors"][0]["message"]
    assert count(app, Comment) == 0


def test_moderator_decision_during_webhook_scoring_is_kept(app, make_app, post_comment, monkeypatch):
    from moderation import runtime

    with app.app_context():
        scorer = runtime.scorer()
    real = scorer.score
    moderator_app = make_app()

    def score(texts, boundaries=None):
        # A moderator decides the pending comment from the pending list while it is scored.
        with moderator_app.app_context():
            comment = db.session.scalar(sa.select(Comment).where(Comment.external_id == "race"))
            comment.status, comment.decided_by, comment.reason_code = "rejected", "human", "spam"
            db.session.commit()
        return real(texts)

    monkeypatch.setattr(scorer, "score", score)
    answer = post_comment(comment_payload("race", "<p>Fine words.</p>")).get_json()
    assert (answer["status"], answer["decided_by"], answer["reason_code"]) == ("rejected", "human", "spam")
