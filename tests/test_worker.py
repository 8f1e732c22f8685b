"""`moderation worker` and `moderation rescore`: pending scoring, rescoring rules, real worker processes."""
from __future__ import annotations

import json
import logging
import signal

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import RescoreJob
from moderation.models import AuditEntry, Comment, OutboxMessage
from moderation.worker import Worker
from support import make_site
from test_callbacks_support import (  # noqa: F401 (fixture)
    Clock, comment, needs_postgres, outbox, post, receiver, wait_for, worker_process,
)


def test_worker_waits_for_the_model_and_says_why_once(make_app, caplog):
    app = make_app(scorer=False)
    credentials = make_site(app)
    post(app, credentials, "c1", "<p>Fine words.</p>")
    worker = Worker(app, clock=Clock())
    with caplog.at_level(logging.WARNING, logger="moderation.jobs.pending"):
        for _ in range(3):
            assert worker.run_once() is False
    assert comment(app, "c1").status == "pending"
    warnings = [r for r in caplog.records if "scorer unavailable" in r.getMessage()]
    assert len(warnings) == 1 and "missing.ckpt" in warnings[0].getMessage()


def test_worker_decides_pending_comments_and_audits_them(make_app):
    intake = make_app(scorer=False)
    credentials = make_site(intake, callback_url="http://127.0.0.1:9/hooks")
    for n, body in enumerate(["Fine words.", "You idiot.", "A stupid idea."]):
        post(intake, credentials, f"c{n}", f"<p>{body}</p>")
    app = make_app()
    with app.app_context():
        assert Worker(app, clock=Clock()).pending.step() == 3
        actors = db.session.scalars(sa.select(AuditEntry.actor_type).where(
            AuditEntry.action == "comment.assessed", AuditEntry.to_status != "pending")).all()
    assert [comment(app, f"c{n}").status for n in range(3)] == ["approved", "rejected", "queued"]
    assert actors == ["worker"] * 3
    assert sorted(m.payload["data"]["external_id"] for m in outbox(app)) == ["c0", "c1", "c2"]


def test_a_premoderated_comment_waits_for_its_scores_then_is_queued_with_them(make_app):
    """With the scorer down a premoderated site's comment stays `pending` (DESIGN: only a score,
    a word list or a human moves it); the worker scores it and queues it with its scores."""
    intake = make_app(scorer=False)
    credentials = make_site(intake, callback_url="http://127.0.0.1:9/hooks")
    premoderate(intake)
    answer = post(intake, credentials, "c1", "<p>Fine words.</p>")
    assert answer.status_code == 202 and answer.get_json()["status"] == "pending"
    app = make_app()
    with app.app_context():
        assert Worker(app, clock=Clock()).pending.step() == 1
    decided = comment(app, "c1")
    assert decided.status == "queued" and decided.scores and decided.decided_by == "model"
    assert {"code": "premoderation"} in decided.reasons
    assert [m.payload["data"]["status"] for m in outbox(app)] == ["queued"]


def still_scoring(monkeypatch) -> None:
    """The webhook stores and commits the revision as `pending`, then is (still) scoring it: from
    the worker's side nothing more is in the database, as while a real webhook scores."""
    from moderation.decisions import DecisionResult
    from moderation.ingest import operations

    monkeypatch.setattr(operations, "decide_revisions", lambda *args, **kwargs: DecisionResult())


def test_worker_leaves_a_fresh_comment_to_its_webhook_until_the_grace_has_passed(make_app, monkeypatch):
    app = make_app()
    assert app.config["WORKER_GRACE_SECONDS"] == 30.0  # the default
    credentials = make_site(app, callback_url="http://127.0.0.1:9/hooks")
    still_scoring(monkeypatch)
    assert post(app, credentials, "c1", "<p>Fine words.</p>").status_code == 202
    monkeypatch.undo()
    worker = Worker(app, clock=(clock := Clock()))
    with app.app_context():
        assert worker.pending.step() == 0, "a comment its webhook may be scoring was taken"
        clock.advance(seconds=25)
        assert worker.pending.step() == 0
        clock.advance(seconds=6)  # 31 s after it was received: nobody is scoring it any more
        assert worker.pending.step() == 1
    decided = comment(app, "c1")
    assert (decided.status, decided.score_attempts) == ("approved", 0)
    assert [m.payload["data"]["status"] for m in outbox(app)] == ["approved"]


def test_worker_takes_a_comment_whose_webhook_failed_to_score_at_once(make_app):
    from moderation.models import StoredAssessment

    intake = make_app(scorer=False)  # the webhook's attempt fails: no model
    credentials = make_site(intake)
    assert post(intake, credentials, "c1", "<p>Fine words.</p>").status_code == 202
    app = make_app()
    with app.app_context():
        # The failed attempt is on record (a row whose scores are JSON null, and one attempt).
        [failed] = db.session.execute(sa.select(StoredAssessment.status, StoredAssessment.source,
                                                StoredAssessment.scores)).all()
        assert tuple(failed) == ("pending", "webhook", None)
        assert Worker(app, clock=Clock()).pending.step() == 1  # received just now, taken all the same
    assert comment(app, "c1").status == "approved"


def test_a_failed_attempt_on_an_earlier_revision_does_not_make_an_edit_fair_game(make_app, monkeypatch):
    intake = make_app(scorer=False)
    credentials = make_site(intake)
    post(intake, credentials, "c1", "<p>Fine words.</p>")  # failed attempt on revision 1
    app = make_app()
    still_scoring(monkeypatch)
    assert post(app, credentials, "c1", "<p>You idiot.</p>").get_json()["revision"] == 2
    monkeypatch.undo()
    worker = Worker(app, clock=(clock := Clock()))
    with app.app_context():
        assert worker.pending.step() == 0, "the edit's webhook may be scoring it"
        clock.advance(seconds=31)
        assert worker.pending.step() == 1
    assert comment(app, "c1").status == "rejected"  # the edited text


def test_a_grace_of_zero_takes_every_pending_comment_at_once(make_app, monkeypatch):
    app = make_app(WORKER_GRACE_SECONDS=0.0)
    credentials = make_site(app)
    still_scoring(monkeypatch)
    post(app, credentials, "c1", "<p>Fine words.</p>")
    monkeypatch.undo()
    with app.app_context():
        assert Worker(app, clock=Clock()).pending.step() == 1
    assert comment(app, "c1").status == "approved"


@pytest.fixture
def decided(make_app):
    """Three model-decided comments and one a moderator approved, on a site with a callback URL."""
    app = make_app()
    credentials = make_site(app, callback_url="http://127.0.0.1:9/hooks")
    for n, body in enumerate(["Fine words.", "Lovely park.", "A stupid idea.", "Another fine one."]):
        post(app, credentials, f"c{n}", f"<p>{body}</p>")
    with app.app_context():
        human = db.session.scalar(sa.select(Comment).where(Comment.external_id == "c3"))
        human.decided_by, human.status = "human", "approved"
        db.session.commit()
    return app


def premoderate(app) -> None:
    from moderation.policy_versions import save_policy
    from moderation.sites import require

    with app.app_context():
        save_policy(require("news"), {"premoderation": True}, actor_type="cli")
        db.session.commit()


def test_rescore_inline_applies_the_new_policy_but_never_a_human_decision(decided):
    premoderate(decided)
    result = decided.test_cli_runner().invoke(args=["rescore", "--status", "approved,queued"])
    assert result.exit_code == 0, result.output
    assert "3 comment(s) to score" in result.output and "3 processed, 2 changed" in result.output
    assert [comment(decided, f"c{n}").status for n in range(4)] == ["queued", "queued", "queued", "approved"]
    assert comment(decided, "c2").policy_version == 2
    assert sorted(m.payload["data"]["external_id"] for m in outbox(decided)) == ["c0", "c1"], \
        "callbacks only for status changes"


def test_rescore_enqueued_is_run_by_the_worker(decided):
    premoderate(decided)
    result = decided.test_cli_runner().invoke(args=["rescore", "--enqueue", "--status", "approved",
                                                    "--since", "1h"])
    assert result.exit_code == 0 and "Queued" in result.output, result.output
    Worker(decided, clock=Clock()).run(until_idle=True)
    with decided.app_context():
        job = db.session.scalar(sa.select(RescoreJob))
        assert (job.state, job.processed, job.changed) == ("done", 2, 2)
    assert comment(decided, "c3").status == "approved"


def test_rescore_refuses_unknown_statuses(decided):
    result = decided.test_cli_runner().invoke(args=["rescore", "--status", "approved,bogus"])
    assert result.exit_code != 0 and "--status" in result.output


def _outbox_rows(app):
    with app.app_context():
        return [(m.webhook_id, m.status) for m in db.session.scalars(sa.select(OutboxMessage))]


def test_worker_killed_mid_delivery_loses_nothing(make_app, database_url, tmp_path, receiver):
    """kill -9 during a slow delivery; a new worker sends it again, with the same webhook-id."""
    intake = make_app(scorer=False)
    credentials = make_site(intake, callback_url=receiver.url)
    post(intake, credentials, "c1", "<p>Fine words.</p>")
    app = make_app()
    with app.app_context():
        Worker(app).pending.step()
    receiver.mode = "hang"
    env = {"MODERATION_CALLBACK_LEASE_SECONDS": "2", "MODERATION_CALLBACK_TIMEOUT": "30"}
    first = worker_process(database_url, tmp_path=tmp_path, extra_env=env)
    try:
        wait_for(lambda: len(receiver.requests) == 1, message="the first delivery to start")
        first.kill()  # SIGKILL: no cleanup, the claim is left behind
        first.wait(timeout=30)
    finally:
        first.kill()
    receiver.mode = "ok"
    second = worker_process(database_url, tmp_path=tmp_path, extra_env=env)
    try:
        wait_for(lambda: _outbox_rows(app)[0][1] == "delivered", message="the redelivery")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    [(webhook_id, _)] = _outbox_rows(app)
    assert receiver.webhook_ids() == [webhook_id, webhook_id]


def test_sigterm_stops_the_worker_cleanly(database_url, tmp_path):
    process = worker_process(database_url, tmp_path=tmp_path)
    wait_for(lambda: process.stdout.readline() and True, message="worker output")
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "worker stopped" in output


@needs_postgres
def test_two_workers_never_deliver_the_same_attempt_at_once(make_app, database_url, tmp_path, receiver):
    intake = make_app(scorer=False)
    credentials = make_site(intake, callback_url=receiver.url)
    for n in range(40):
        post(intake, credentials, f"c{n}", f"<p>Fine words number {n}.</p>")
    app = make_app()
    with app.app_context():
        while Worker(app).pending.step():
            pass
    receiver.delay = 0.05
    env = {"MODERATION_WORKER_BATCH_SIZE": "3"}
    workers = [worker_process(database_url, tmp_path=tmp_path, extra_env=env) for _ in range(2)]
    try:
        wait_for(lambda: all(status == "delivered" for _, status in _outbox_rows(app)),
                 timeout=120, message="every callback delivered")
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        outputs = [process.communicate(timeout=30)[0] for process in workers]
    ids = receiver.webhook_ids()
    assert len(ids) == 40 and len(set(ids)) == 40, "each message delivered exactly once"
    assert receiver.max_in_flight == 1
    delivered_by = [sum('"callback msg_' in line and "delivered" in line for line in out.splitlines())
                    for out in outputs]
    assert sum(delivered_by) == 40


def test_worker_command_exits_when_idle(make_app, tmp_path, database_url):
    make_app(scorer=False)
    process = worker_process(database_url, tmp_path=tmp_path, args=("--until-idle",))
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert json.loads(output.strip().splitlines()[-1])["message"] == "worker stopped"


@needs_postgres
def test_claims_skip_rows_another_transaction_holds(make_app):
    from datetime import timedelta

    from moderation.callbacks import outbox as ops

    intake = make_app(scorer=False)
    credentials = make_site(intake, callback_url="http://127.0.0.1:9/hooks")
    for n in range(4):
        post(intake, credentials, f"c{n}", f"<p>Fine words number {n}.</p>")
    app = make_app()
    with app.app_context():
        Worker(app).pending.step()
        ids = sorted(m.id for m in outbox(app))
        with db.engine.connect() as other:
            held = other.begin()
            other.execute(sa.select(OutboxMessage.id).where(OutboxMessage.id.in_(ids[:2]))
                          .with_for_update())
            claims = ops.claim_due(Clock()(), limit=10, lease=timedelta(seconds=60))
            held.rollback()
    assert sorted(c.message_id for c in claims) == ids[2:]


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_bad_grace_is_refused_with_its_name(make_app, value):
    app = make_app(WORKER_GRACE_SECONDS=value)
    result = app.test_cli_runner().invoke(args=["worker", "--until-idle"])
    assert result.exit_code != 0
    assert "MODERATION_WORKER_GRACE_SECONDS: expected a number of seconds >= 0" in result.output
