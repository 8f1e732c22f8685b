"""Replays and concurrent edits (DESIGN §4): webhook-id is the idempotency key, an older body never
rolls a comment back, a human decision is only undone by a genuinely new body, and concurrent
edits of one comment are serialised (no 500, consecutive revisions)."""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, CommentRevision, User
from moderation.review import operations as review
from review_support import make_user
from support import comment_payload, gunicorn_served, sign


def send(client, secret: str, data: dict, *, message_id: str | None = None, raw: bytes | None = None,
         headers: dict | None = None):
    body = raw if raw is not None else json.dumps(data).encode()
    signed = headers or sign(secret, body, message_id=message_id)
    return client.post("/api/v1/sites/news/comments", data=body,
                       headers={**signed, "Content-Type": "application/json"}), body, signed


def state(app, external_id: str = "c1") -> dict:
    with app.app_context():
        comment = db.session.scalar(sa.select(Comment).where(Comment.external_id == external_id))
        revisions = db.session.scalars(sa.select(CommentRevision).where(CommentRevision.comment_id == comment.id)
                                       .order_by(CommentRevision.number)).all()
        return {"status": comment.status, "text": comment.text, "decided_by": comment.decided_by,
                "reason_code": comment.reason_code, "note": comment.moderator_note,
                "revision": comment.revision_count, "id": comment.id,
                "revisions": [(r.number, r.status, r.text) for r in revisions]}


def reject_as_moderator(app, comment_id: int, expected: str) -> None:
    make_user(app, "mod@news.example")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "mod@news.example"))
        result = review.decide(user, comment_id, decision="rejected", expected_status=expected,
                               reason_code="abusive", note="called names")
        assert result.ok, result.message
        db.session.commit()


def test_a_replayed_delivery_answers_as_then_and_changes_nothing(app, site):
    client = app.test_client()
    first, body_a, headers_a = send(client, site.secret, comment_payload("c1", "<p>What a lovely park.</p>"),
                                    message_id="msg_A")
    assert first.status_code == 200 and first.get_json()["status"] == "approved"
    edit, _, _ = send(client, site.secret, comment_payload("c1", "<p>That was a stupid decision.</p>"))
    assert edit.get_json()["status"] == "queued" and edit.get_json()["revision"] == 2
    reject_as_moderator(app, edit.get_json()["id"], "queued")
    before = state(app)

    # The exact bytes and headers of delivery A, again (within the 5-minute window).
    replay, _, _ = send(client, site.secret, {}, raw=body_a, headers=headers_a)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()  # what it answered then
    assert state(app) == before
    assert before["status"] == "rejected" and before["decided_by"] == "human"
    assert before["reason_code"] == "abusive" and before["revision"] == 2


def test_an_older_body_under_a_new_webhook_id_does_not_roll_back(app, site):
    client = app.test_client()
    send(client, site.secret, comment_payload("c1", "<p>What a lovely park.</p>"))
    edit, _, _ = send(client, site.secret, comment_payload("c1", "<p>That was a stupid decision.</p>"))
    reject_as_moderator(app, edit.get_json()["id"], "queued")
    before = state(app)
    again, _, _ = send(client, site.secret, comment_payload("c1", "<p>What a lovely park.</p>"))
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["status"] == "rejected" and again.get_json()["revision"] == 2
    assert state(app) == before


def test_an_edit_sent_before_the_current_revision_is_history_not_applied(app, site):
    client = app.test_client()
    newer = comment_payload("c1", "<p>The newest words.</p>", updated_at="2021-04-16T12:10:00Z")
    older = comment_payload("c1", "<p>Words from before.</p>", updated_at="2021-04-16T12:05:00Z")
    send(client, site.secret, comment_payload("c1", "<p>First words.</p>", updated_at="2021-04-16T12:00:00Z"))
    assert send(client, site.secret, newer)[0].get_json()["revision"] == 2
    late, _, _ = send(client, site.secret, older)
    assert late.status_code == 200 and "Idempotent-Replayed" not in late.headers
    assert late.get_json()["text"] == "The newest words." and late.get_json()["revision"] == 2
    after = state(app)
    assert after["text"] == "The newest words." and after["status"] == "approved"
    assert after["revisions"] == [(1, "approved", "First words."), (2, "approved", "The newest words."),
                                  (3, "superseded", "Words from before.")]
    # The next real edit is numbered after the history and decided as usual.
    latest = send(client, site.secret, comment_payload("c1", "<p>Even newer.</p>",
                                                       updated_at="2021-04-16T12:20:00Z"))[0]
    assert latest.get_json()["revision"] == 4 and state(app)["text"] == "Even newer."
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "comment.edit_superseded" in actions


def test_a_real_edit_clears_the_moderators_reason_and_note(app, site):
    client = app.test_client()
    first, _, _ = send(client, site.secret, comment_payload("c1", "<p>That was a stupid decision.</p>"))
    reject_as_moderator(app, first.get_json()["id"], "queued")
    assert state(app)["reason_code"] == "abusive"
    edited, _, _ = send(client, site.secret, comment_payload("c1", "<p>What a lovely park.</p>"))
    assert edited.get_json()["reason_code"] is None and edited.get_json()["decided_by"] == "model"
    after = state(app)
    assert (after["status"], after["reason_code"], after["note"]) == ("approved", None, None)


def test_the_same_delivery_twice_at_once_is_stored_once(app, site):
    body = json.dumps(comment_payload("c1", "<p>What a lovely park.</p>")).encode()
    headers = sign(site.secret, body, message_id="msg_twin")
    with served(app) as base, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: requests.post(
            f"{base}/api/v1/sites/news/comments", data=body,
            headers={**headers, "Content-Type": "application/json"}, timeout=60), range(8)))
    # One stored it; the others were answered what it had answered by then (202 while it was
    # being scored), never an error.
    assert all(a.status_code in (200, 202) for a in answers), [a.text for a in answers]
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert {a.json()["id"] for a in answers} == {answers[0].json()["id"]}
    assert state(app)["revisions"] == [(1, "approved", "What a lovely park.")]
    # A copy answered `pending` was promised a callback: the decision is sent once, whatever the count.
    told_pending = any(a.json()["status"] == "pending" for a in answers)
    assert _callbacks(app) == ([(answers[0].json()["id"], "approved")] if told_pending else [])
    later, _, _ = send(app.test_client(), site.secret, {}, raw=body, headers=headers)
    assert later.status_code == 200 and later.get_json()["status"] == "approved"


def _scoring_held(app):
    """Hold this app's next forward pass until released: a delivery stays `pending` meanwhile."""
    scorer = app.extensions["moderation.scorer"]
    entered, release = threading.Event(), threading.Event()
    score = scorer.score

    def held(*args, **kwargs):
        entered.set()
        assert release.wait(30), "the test never released the pass"
        return score(*args, **kwargs)

    scorer.score = held
    return entered, release


def _callbacks(app) -> list[tuple[int, str]]:
    from moderation.models import OutboxMessage

    with app.app_context():
        return [(m.comment_id, m.payload["data"]["status"])
                for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))]


def test_a_retry_answered_pending_while_the_first_is_scored_gets_the_decision_by_callback(app, site):
    """A publisher whose request timed out sends the delivery again while it is still being scored.
    The retry is answered what the first had stored, `202 pending`, and DESIGN promises a callback
    after `pending`: the decision the first request then makes must be sent as one."""
    body = json.dumps(comment_payload("c1", "<p>What a lovely park.</p>")).encode()
    headers = sign(site.secret, body, message_id="msg_timed_out")
    entered, release = _scoring_held(app)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(send, app.test_client(), site.secret, {}, raw=body, headers=headers)
        assert entered.wait(30)
        retry, _, _ = send(app.test_client(), site.secret, {}, raw=body, headers=headers)
        assert retry.status_code == 202 and retry.get_json()["status"] == "pending"
        assert retry.headers["Idempotent-Replayed"] == "true"
        release.set()
        answered = first.result(timeout=60)[0]
    assert answered.status_code == 200 and answered.get_json()["status"] == "approved"
    assert _callbacks(app) == [(answered.get_json()["id"], "approved")]
    again, _, _ = send(app.test_client(), site.secret, {}, raw=body, headers=headers)
    assert again.status_code == 200 and again.get_json()["status"] == "approved"  # answered as decided now
    assert len(_callbacks(app)) == 1


def test_a_delivery_decided_at_once_owes_no_callback(app, site):
    """Only a `pending` answer promises a callback: a first answer with the decision, or a retry
    after it, queues none."""
    body = json.dumps(comment_payload("c1", "<p>What a lovely park.</p>")).encode()
    headers = sign(site.secret, body, message_id="msg_once")
    for _ in range(2):
        answer, _, _ = send(app.test_client(), site.secret, {}, raw=body, headers=headers)
        assert answer.status_code == 200 and answer.get_json()["status"] == "approved"
    assert _callbacks(app) == []


class served:
    """The app behind a real threaded WSGI server, as gunicorn's threads would run it."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join()


def edits_at_once(base: str, secret: str, n: int) -> list[requests.Response]:
    def deliver(i: int) -> requests.Response:
        body = json.dumps(comment_payload("c1", f"<p>Edit number {i} of this comment.</p>")).encode()
        return requests.post(f"{base}/api/v1/sites/news/comments", data=body,
                             headers={**sign(secret, body), "Content-Type": "application/json"}, timeout=120)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(deliver, range(n)))


@pytest.mark.parametrize("server", ["threaded", "gunicorn"])
def test_concurrent_edits_of_one_comment_never_fail_and_number_revisions_in_order(
        app, site, database_url, tiny_model, server):
    if server == "threaded":
        n = 24
        with served(app) as base:
            answers = edits_at_once(base, site.secret, n)
    else:
        n = 40  # 2 processes x 4 threads, as `moderation serve` runs
        with gunicorn_served(database_url, tiny_model, workers=2, threads=4,
                             env={"MODERATION_RATELIMIT_WEBHOOK": "10000 per minute"}) as base:
            answers = edits_at_once(base, site.secret, n)
    failures = [(a.status_code, a.text[:200]) for a in answers if a.status_code not in (200, 202)]
    assert failures == []
    after = state(app)
    assert [number for number, _, _ in after["revisions"]] == list(range(1, n + 1))
    assert after["revision"] == n
    # The comment shows the last revision stored, decided on its own text.
    assert after["text"] == after["revisions"][-1][2]
    assert after["status"] in ("approved", "pending")


def test_delivery_ids_are_kept_through_a_senders_retries_then_forgotten(app, site):
    """Kept three days: a Standard Webhooks sender retries the same webhook-id for about 28 hours."""
    from datetime import timedelta

    from moderation.models import Delivery, utcnow

    client = app.test_client()
    send(client, site.secret, comment_payload("c1", "<p>What a lovely park.</p>"), message_id="msg_old")
    with app.app_context():
        db.session.execute(sa.update(Delivery).values(received_at=utcnow() - timedelta(hours=30)))
        db.session.commit()
    send(client, site.secret, comment_payload("c2", "<p>Another fine comment.</p>"), message_id="msg_new")
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Delivery.webhook_id))) == ["msg_new", "msg_old"]
        db.session.execute(sa.update(Delivery).where(Delivery.webhook_id == "msg_old")
                           .values(received_at=utcnow() - timedelta(days=4)))
        db.session.commit()
    send(client, site.secret, comment_payload("c3", "<p>A third fine comment.</p>"), message_id="msg_newest")
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Delivery.webhook_id))) == ["msg_new", "msg_newest"]
