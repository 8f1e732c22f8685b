"""Scale-out: two web processes and two workers on one PostgreSQL spread the work and do nothing twice.

The scenario runs real processes: two `moderation serve --workers 1` (as two machines behind a load
balancer would run them), two `moderation worker`, a callback receiver in this process, and the tiny
test model. Requests alternate between the two web processes; a delivery is replayed, byte for byte,
to the *other* process; comments arrive while the web processes cannot score (their checkpoint path
does not exist yet) so the workers must decide them, and later, once the file appears, while they
can. See docs/deployment.md, "Scaling out".
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentRevision, OutboxMessage, StoredAssessment
from moderation.worker import Worker
from support import POSTGRES_URL, comment_payload, gunicorn_served, make_site, sign, signed_post
from test_callbacks_support import Clock, Receiver, wait_for, worker_process

needs_postgres = pytest.mark.skipif(
    not (POSTGRES_URL or "").startswith("postgres"),
    reason="scale-out needs PostgreSQL (MODERATION_TEST_DATABASE_URL=postgresql://127.0.0.1:5432/test): "
           "SQLite is a single-machine database, served by one worker")

def test_a_webhook_never_decides_again_what_a_worker_decided_while_it_scored(make_app, monkeypatch):
    """The race the scenario above can hit: the webhook stores a revision (`pending`, committed),
    scores it, and meanwhile a worker claims, scores and decides the same revision. The webhook's
    result is stale then; it used to be recorded as a second assessment, because the comment's
    status was read (reloaded after the commit) only after scoring, when it was already decided."""
    from moderation import decisions

    app = make_app()
    credentials = make_site(app, callback_url="http://127.0.0.1:9/hooks")
    worker = Worker(make_app(), clock=Clock())
    worker.scorer.ensure_loaded()
    real_assess, webhook_thread, raced = decisions.assess, threading.get_ident(), []

    def a_worker_decides_meanwhile(*args, **kwargs):
        if threading.get_ident() == webhook_thread and not raced:
            def step() -> None:
                with worker.app.app_context():
                    raced.append(worker.pending.step())
                    db.session.remove()
            other = threading.Thread(target=step)
            other.start()
            other.join(60)
        return real_assess(*args, **kwargs)

    monkeypatch.setattr(decisions, "assess", a_worker_decides_meanwhile)
    response = signed_post(app.test_client(), credentials.slug, credentials.secret,
                           comment_payload("c1", "<p>Fine words about the park.</p>"))
    assert raced == [1], "the worker did not decide the comment during the webhook's scoring"
    # The webhook answers with the worker's decision, which the worker's callback also carries.
    assert response.status_code == 200 and response.get_json()["status"] == "approved"
    with app.app_context():
        rows = db.session.execute(sa.select(StoredAssessment.source, StoredAssessment.status)).all()
        callbacks = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        status = db.session.scalar(sa.select(Comment.status))
    assert [tuple(row) for row in rows] == [("worker", "approved")]
    assert (status, callbacks) == ("approved", 1)
