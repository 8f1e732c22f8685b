"""The one decision path: scores that cannot be trusted never approve, whoever decides.

The model is real (the tiny checkpoint through Detoxify's loading code); only its output is
replaced by NaN, infinity or an incomplete set of classes, as a broken checkpoint or a
numerical fault would give. Runs on SQLite and, with MODERATION_TEST_DATABASE_URL, PostgreSQL
(where NaN is a valid float and would have been stored and approved).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from moderation import runtime
from moderation.callbacks.outbox import waiting_for_url
from moderation.extensions import db
from moderation.jobs.rescore import claim_job, create_job, run_batch
from moderation.models import Comment, OutboxMessage, Site, utcnow
from moderation.worker import Worker
from test_callbacks_support import Clock, comment, outbox, post, receiver  # noqa: F401 (fixture)
from support import make_site
from test_coral import CORAL_SECRET, coral_post, coral_request, drained_pool  # noqa: F401 (fixture)

NAN = float("nan")
BROKEN = {
    "nan": lambda classes: {name: NAN for name in classes},
    "inf": lambda classes: {**{name: 0.01 for name in classes}, "toxicity": float("inf")},
    "empty": lambda classes: {},
    "unknown-names": lambda classes: {f"LABEL_{i}": 0.01 for i, _ in enumerate(classes)},
    "missing-category": lambda classes: {name: 0.01 for name in classes if name != "identity_attack"},
}


def break_scores(app, monkeypatch, kind: str) -> None:
    """Make the app's real scorer return broken numbers (after really running the model)."""
    with app.app_context():
        scorer = runtime.scorer()
    real = scorer.score

    def score(texts, boundaries=None):
        real(texts)
        return [BROKEN[kind](scorer.classes) for _ in texts]

    monkeypatch.setattr(scorer, "score", score)


def invalid_metric(app) -> float:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    [line] = [line for line in text.splitlines() if line.startswith("moderation_comments_invalid_scores ")]
    return float(line.split()[1])


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_webhook_keeps_a_comment_with_unusable_scores_pending(make_app, monkeypatch, kind):
    app = make_app()
    credentials = make_site(app)
    break_scores(app, monkeypatch, kind)
    response = post(app, credentials, "c1", "<p>What a lovely park.</p>")
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "pending"
    stored = comment(app, "c1")
    assert stored.status == "pending" and stored.decided_by is None and stored.scores is None
    assert stored.scoring_error.startswith("invalid scores") and stored.harm == 0.0
    assert invalid_metric(app) == 1


def test_worker_keeps_unusable_scores_pending_and_decides_once_they_are_good(make_app, monkeypatch):
    intake = make_app(scorer=False)
    credentials = make_site(intake)
    post(intake, credentials, "c1", "<p>What a lovely park.</p>")
    app = make_app()
    break_scores(app, monkeypatch, "nan")
    worker = Worker(app, clock=Clock())
    with app.app_context():
        worker.pending.step()
    assert comment(app, "c1").status == "pending"
    assert comment(app, "c1").scoring_error.startswith("invalid scores")
    assert outbox(app) == []
    monkeypatch.undo()
    with app.app_context():
        Worker(app, clock=Clock()).pending.step()
    assert comment(app, "c1").status == "approved"
    assert invalid_metric(app) == 0


def test_rescoring_with_unusable_scores_keeps_the_decision(make_app, monkeypatch):
    app = make_app()
    credentials = make_site(app)
    assert post(app, credentials, "c1", "<p>You idiot, what a park.</p>").get_json()["status"] == "rejected"
    assert post(app, credentials, "c2", "<p>What a lovely park.</p>").get_json()["status"] == "approved"
    break_scores(app, monkeypatch, "inf")
    now = utcnow()
    with app.app_context():
        create_job(site_id=None, statuses=["approved", "rejected"], since=None, requested_by="test")
        db.session.commit()
        job = claim_job(now, timedelta(minutes=5))
        run_batch(job, runtime.scorer(), batch_size=10, now=now, lease=timedelta(minutes=5), actor_type="cli")
        assert job.skipped == 2 and job.changed == 0
    assert (comment(app, "c1").status, comment(app, "c2").status) == ("rejected", "approved")
    assert outbox(app) == []


def test_coral_withholds_a_comment_with_unusable_scores(make_app, monkeypatch):
    from moderation.ingest.coral_scoring import warm_up

    app = make_app(CORAL_TIMEOUT=5.0)
    make_site(app, coral_secret=CORAL_SECRET)
    with app.app_context():
        warm_up(runtime.scorer())
    break_scores(app, monkeypatch, "missing-category")
    answer = coral_post(app.test_client(), coral_request("Fine words about the park.")).get_json()
    assert answer["status"] == "SYSTEM_WITHHELD"
    with app.app_context():
        [stored] = db.session.scalars(sa.select(Comment)).all()
        assert stored.status == "pending" and stored.scoring_error.startswith("invalid scores")


def test_decisions_made_without_a_callback_url_are_delivered_once_one_is_set(make_app, receiver):
    intake = make_app(scorer=False)
    credentials = make_site(intake)  # no callback URL yet
    post(intake, credentials, "c1", "<p>What a lovely park.</p>")
    app = make_app(CALLBACK_ALLOW_PRIVATE=True, CALLBACK_TIMEOUT=2.0)
    worker = Worker(app, clock=Clock())
    worker.run_once()
    assert comment(app, "c1").status == "approved"
    [message] = outbox(app)
    assert message.status == "pending" and receiver.requests == []
    with app.app_context():
        assert waiting_for_url() == 1
    assert "moderation_callbacks_waiting_for_url 1.0" in app.test_client().get("/metrics").get_data(as_text=True)
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == credentials.slug))
        site.callback_url = receiver.url
        db.session.commit()
    worker.run_once()
    [request] = receiver.requests
    assert request.headers["webhook-id"] == message.webhook_id
    with app.app_context():
        assert db.session.get(OutboxMessage, message.id).status == "delivered"
        assert waiting_for_url() == 0


def test_short_foreign_abuse_declared_english_goes_to_a_human(post_comment):
    from support import comment_payload

    answer = post_comment(comment_payload("c1", "<p>hijo de puta</p>", language="en")).get_json()
    assert answer["status"] == "queued" and answer["language"] == "es"
    assert {"code": "unsupported_language", "language": "es"} in answer["reasons"]


def test_a_comment_not_scored_is_audited_and_its_history_says_why(make_app):
    from moderation.models import AuditEntry
    from moderation.review.present import history_lines

    down = make_app(scorer=False)  # the model's files are missing: comments wait as pending
    credentials = make_site(down)
    assert post(down, credentials, "c1", "<p>The park opened today.</p>").status_code == 202
    with down.app_context():
        stored = db.session.scalar(sa.select(Comment))
        assert stored.status == "pending" and stored.score_attempts == 1
        rows = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "comment.assessed")).all()
        assert [(row.to_status, row.reason) for row in rows] == [("pending", stored.scoring_error)]
        [line] = [line for line in history_lines(rows)]
        assert (line.text, line.by) == ("Not scored yet", "the scorer")
        assert line.detail.startswith("the model's files are missing on this server")
