"""An edit or a moderator's decision that lands while the worker scores wins over the stale score.

On PostgreSQL the worker's claimed rows are locked FOR UPDATE, so an edit waits for the
worker instead; these tests drive the SQLite case, where nothing is locked while scoring.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from moderation import runtime
from moderation.extensions import db
from moderation.models import Comment
from moderation.worker import Worker
from support import POSTGRES_URL
from test_callbacks_support import Clock, comment, post
from support import make_site

pytestmark = pytest.mark.skipif(
    bool(POSTGRES_URL), reason="on PostgreSQL the claimed rows are locked, so an edit waits for the worker "
                               "(covered by the SKIP LOCKED tests); this race only exists on SQLite")


def scoring_with(app, monkeypatch, during):
    """Make the worker app's scorer run `during()` in the middle of scoring, once."""
    with app.app_context():
        scorer = runtime.scorer()
    real = scorer.score
    calls = []

    def score(texts, boundaries=None):
        if not calls:
            calls.append(texts)
            during()
        return real(texts)

    monkeypatch.setattr(scorer, "score", score)
    return calls


def test_edit_during_scoring_is_not_overwritten_by_the_old_text_score(make_app, monkeypatch):
    intake = make_app(scorer=False)
    credentials = make_site(intake)
    post(intake, credentials, "c1", "<p>Fine words about the park.</p>")
    app = make_app()
    calls = scoring_with(app, monkeypatch,
                         lambda: post(intake, credentials, "c1", "<p>You idiot, what a park.</p>"))
    worker = Worker(app, clock=Clock())
    with app.app_context():
        worker.pending.step()
    assert calls == [["Fine words about the park."]]
    edited = comment(app, "c1")
    assert (edited.status, edited.revision_count) == ("pending", 2)  # not "approved" for the old text
    with app.app_context():
        worker.pending.step()
    assert comment(app, "c1").status == "rejected"  # decided on the edited text


def test_moderator_decision_during_scoring_is_kept(make_app, monkeypatch):
    intake = make_app(scorer=False)
    credentials = make_site(intake)
    post(intake, credentials, "c2", "<p>Fine words about the park.</p>")

    def moderator_rejects():
        with intake.app_context():
            row = db.session.scalar(sa.select(Comment).where(Comment.external_id == "c2"))
            row.status, row.decided_by, row.reason_code = "rejected", "human", "spam"
            db.session.commit()

    app = make_app()
    scoring_with(app, monkeypatch, moderator_rejects)
    with app.app_context():
        Worker(app, clock=Clock()).pending.step()
    decided = comment(app, "c2")
    assert (decided.status, decided.decided_by, decided.reason_code) == ("rejected", "human", "spam")
