"""The Coral adapter, with requests built exactly as Coral's external moderation phase builds them.

Coral (src/core/server/services/fetch and .../pipeline/phases/external.ts) serialises the
request with JSON.stringify(request, null, 2), signs that exact text with
HMAC-SHA256(secret as UTF-8, body) in hex, one `sha256=<hex>` per active secret joined by ",".
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import pytest
import sqlalchemy as sa

from moderation import runtime
from moderation.extensions import db
from moderation.ingest.coral_scoring import warm_up
from moderation.models import Comment, CommentRevision, OutboxMessage
from moderation.worker import Worker
from test_callbacks_support import Clock
from support import make_site

CORAL_SECRET = "empsec_2f6c1e7d0a9b4c8e8f1d3a5b7c9e0f12"
OLD_SECRET = "empsec_00000000000000000000000000000000"
CORAL_FLAG = [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]
CORAL_REJECTION_CODES = {"OFFENSIVE", "ABUSIVE", "SPAM", "BANNED_WORD", "AD", "ILLEGAL_CONTENT",
                         "HARASSMENT_BULLYING", "MISINFORMATION", "OTHER"}


def coral_request(body: str, *, action: str = "NEW", author: str = "user-1", story: str = "story-1",
                  parent: str | None = None) -> dict:
    return {
        "action": action,
        "comment": {"body": body, "parentID": parent},
        "author": {"id": author, "role": "COMMENTER"},
        "story": {"id": story, "url": "https://news.example/baku-park"},
        "site": {"id": "coral-site-1"},
        "tenantID": "tenant-1",
        "tenantDomain": "comments.news.example",
    }


def coral_post(client, data: dict, *, secrets=(CORAL_SECRET,), slug: str = "news", raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(data, indent=2, ensure_ascii=False).encode()  # JSON.stringify(x, null, 2)
    signature = ",".join("sha256=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets)
    return client.post(f"/api/v1/sites/{slug}/integrations/coral", data=body, headers={
        "Content-Type": "application/json", "X-Coral-Signature": signature,
        "User-Agent": "Coral Moderation/9.0.0"})


def drain_pool() -> None:
    """Wait for the Coral pool's background storing and scoring to finish."""
    from moderation.ingest import coral_scoring

    with coral_scoring._executor_lock:
        pool, coral_scoring._executor = coral_scoring._executor, None
    if pool is not None:
        pool.shutdown(wait=True)


@pytest.fixture(autouse=True)
def drained_pool():
    """Let a test's background work finish before the next test's rows exist (SQLite reuses
    the ids of deleted rows, and a late thread would find a stranger's comment)."""
    yield
    drain_pool()


@pytest.fixture
def coral(make_app):
    # A generous budget: these tests check decisions, and a loaded 2-core CI machine can take
    # longer than Coral's 200 ms. The deadline itself is tested with a deliberately slow scorer.
    app = make_app(CORAL_TIMEOUT=5.0)
    make_site(app, coral_secret=CORAL_SECRET)
    with app.app_context():
        warm_up(runtime.scorer())  # as in a process that has answered a request before
    return app


def stored(app) -> list[Comment]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Comment).order_by(Comment.id)))
        db.session.expunge_all()
        return rows


def test_neutral_comment_is_approved(coral):
    response = coral_post(coral.test_client(), coral_request("<p>Armenians are rightfully angry.</p>"))
    assert response.status_code == 200 and response.get_json() == {"status": "APPROVED"}
    [comment] = stored(coral)
    assert comment.status == "approved" and comment.external_id.startswith("coral:")
    assert comment.article_id == "story-1" and comment.author_id == "user-1"
    assert comment.article_url == "https://news.example/baku-park"


def test_toxic_comment_is_rejected_with_a_code_coral_knows(coral):
    answer = coral_post(coral.test_client(), coral_request("You are an idiot and scum.")).get_json()
    assert answer["status"] == "REJECTED"
    assert answer["moderationAction"]["rejectionReason"]["code"] in CORAL_REJECTION_CODES


def test_borderline_comment_is_withheld_and_flagged_for_the_queue(coral):
    answer = coral_post(coral.test_client(), coral_request("<p>That was a <b>stupid</b> decision.</p>")).get_json()
    assert answer == {"status": "SYSTEM_WITHHELD", "actions": CORAL_FLAG}
    assert stored(coral)[0].status == "queued"


def test_banned_word_rejects_as_banned_word(coral):
    from moderation.policy_versions import save_policy
    from moderation.sites import require

    with coral.app_context():
        save_policy(require("news"), {"banned_words": ["trophypark"]}, actor_type="cli")
        db.session.commit()
    answer = coral_post(coral.test_client(), coral_request("see you at the trophypark")).get_json()
    assert answer["moderationAction"]["rejectionReason"]["code"] == "BANNED_WORD"


def test_same_request_twice_is_one_comment_and_edit_is_stored(coral):
    client = coral.test_client()
    first = coral_post(client, coral_request("Fine words about the park."))
    again = coral_post(client, coral_request("Fine words about the park."))
    assert first.get_json() == again.get_json()
    assert len(stored(coral)) == 1
    edited = coral_post(client, coral_request("Fine words about the park, edited.", action="EDIT"))
    assert edited.get_json() == {"status": "APPROVED"}
    assert len(stored(coral)) == 2  # no comment id in Coral's request: an edit is a new comment


def test_comment_id_when_present_makes_edits_revisions(coral):
    client = coral.test_client()
    data = coral_request("First words.")
    data["comment"]["id"] = "c-42"
    coral_post(client, data)
    data = coral_request("Second words, you idiot.", action="EDIT")
    data["comment"]["id"] = "c-42"
    assert coral_post(client, data).get_json()["status"] == "REJECTED"
    [comment] = stored(coral)
    assert comment.external_id == "coral:c-42" and comment.revision_count == 2


def test_rotating_secrets_and_older_coral_request_shape(coral):
    data = coral_request("Plain text, no HTML at all.")
    del data["tenantID"], data["tenantDomain"]
    data["tenant"] = {"id": "tenant-1", "domain": "comments.news.example"}  # Coral before v6
    response = coral_post(coral.test_client(), data, secrets=(OLD_SECRET, CORAL_SECRET))
    assert response.get_json() == {"status": "APPROVED"}


def test_a_replaced_coral_secret_verifies_only_for_the_grace_period(coral):
    """While Coral rotates, it signs with both secrets; afterwards the old one must stop working."""
    from datetime import timedelta

    from moderation.extensions import db
    from moderation.models import utcnow
    from moderation.sites import require, update_site

    new_secret = "empsec_" + "b" * 32
    with coral.app_context():
        update_site(require("news"), coral_secret=new_secret, grace=timedelta(hours=72))
        db.session.commit()
    client = coral.test_client()
    assert coral_post(client, coral_request("Fine words about the park."), secrets=(CORAL_SECRET,)).status_code == 200
    assert coral_post(client, coral_request("More fine words."), secrets=(new_secret,)).status_code == 200
    with coral.app_context():
        site = require("news")
        assert site.coral_secrets() == [new_secret, CORAL_SECRET]
        assert site.coral_secrets(utcnow() + timedelta(hours=73)) == [new_secret]
        site.coral_previous_secret_expires_at = utcnow() - timedelta(seconds=1)  # the grace is over
        db.session.commit()
    refused = coral_post(client, coral_request("Words signed with the old secret."), secrets=(CORAL_SECRET,))
    assert refused.status_code == 401


def test_site_update_says_how_long_the_previous_coral_secret_works(coral):
    result = coral.test_cli_runner().invoke(args=["site", "update", "news", "--coral-secret", "empsec_" + "c" * 32])
    assert result.exit_code == 0, result.output
    assert "previous Coral secret keeps working for 3 days" in result.output


def test_bad_signature_is_refused_and_nothing_stored(coral):
    response = coral_post(coral.test_client(), coral_request("Fine words."), secrets=(OLD_SECRET,))
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert "Coral signature refused" in response.get_json()["detail"]
    # Re-serialised JSON (compact instead of Coral's 2-space indent) no longer matches the signature.
    body = json.dumps(coral_request("Fine words."), indent=2).encode()
    signature = "sha256=" + hmac.new(CORAL_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = coral.test_client().post(
        "/api/v1/sites/news/integrations/coral", data=json.dumps(coral_request("Fine words.")),
        headers={"Content-Type": "application/json", "X-Coral-Signature": signature})
    assert response.status_code == 401
    assert stored(coral) == []


def test_signed_but_invalid_request_is_withheld_with_the_fields_logged(coral, caplog):
    # A 4xx makes Coral publish the comment unmoderated: a signed request we cannot read is held.
    data = coral_request("")
    data["action"] = "DELETE"
    del data["story"]
    with caplog.at_level(logging.WARNING, logger="moderation.ingest.coral"):
        response = coral_post(coral.test_client(), data)
    assert response.status_code == 200 and response.get_json()["status"] == "SYSTEM_WITHHELD"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert all(field in logged for field in ("action", "comment.body", "story"))
    assert stored(coral) == []


@pytest.mark.parametrize("body", ["a\x00b", "<" * 2_001 + "b"])
def test_comments_the_webhook_would_refuse_are_withheld_for_coral(coral, body):
    response = coral_post(coral.test_client(), coral_request(body))
    assert response.status_code == 200 and response.get_json()["status"] == "SYSTEM_WITHHELD"


def test_over_the_site_quota_coral_is_told_withheld_not_429(make_app):
    app = make_app(RATELIMIT_WEBHOOK="2 per minute")
    make_site(app, coral_secret=CORAL_SECRET)
    client = app.test_client()
    answers = [coral_post(client, coral_request(f"Fine words, {n}.")) for n in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert answers[-1].get_json()["status"] == "SYSTEM_WITHHELD"


def test_unknown_site_and_missing_coral_secret(coral, make_app):
    assert coral_post(coral.test_client(), coral_request("x"), slug="nope").status_code == 404
    make_site(coral, slug="plain")
    response = coral_post(coral.test_client(), coral_request("x"), slug="plain")
    assert response.status_code == 401 and "no Coral secret" in response.get_json()["detail"]


def test_slow_scoring_is_withheld_and_left_pending_for_the_worker(coral, monkeypatch):
    with coral.app_context():
        scorer = runtime.scorer()
    real_score = scorer.score

    def slow(texts, boundaries=None):
        time.sleep(0.6)  # longer than CORAL_TIMEOUT (0.2 s)
        return real_score(texts, boundaries)

    monkeypatch.setattr(scorer, "score", slow)
    coral.config["CORAL_TIMEOUT"] = 0.2  # Coral's default
    answer = coral_post(coral.test_client(), coral_request("Fine words about the park.")).get_json()
    assert answer == {"status": "SYSTEM_WITHHELD", "actions": CORAL_FLAG}
    drain_pool()  # let the late scoring finish
    [comment] = stored(coral)
    assert comment.status == "pending", "a score that came too late is dropped: Coral was told it is held"
    monkeypatch.setattr(scorer, "score", real_score)
    # The worker decides it later (no callback here: the site has no callback URL): a Coral
    # request that ran out of time records no attempt, so it waits the worker's grace period,
    # as a webhook still scoring would.
    worker = Worker(coral, clock=(clock := Clock()))
    worker.run_once()
    assert stored(coral)[0].status == "pending"
    clock.advance(seconds=coral.config["WORKER_GRACE_SECONDS"] + 1)
    worker.run_once()
    assert stored(coral)[0].status == "approved"


def test_a_decision_ready_only_after_coral_was_answered_is_not_kept(coral, monkeypatch):
    """Scored in time, but its commit comes after the view gave up and told Coral SYSTEM_WITHHELD:
    keeping it would record a decision Coral never heard of (the comment sits in Coral's queue),
    with no callback. It is dropped; the comment stays pending and the worker decides it."""
    from moderation.ingest import coral as adapter

    real = adapter.decide_revisions

    def decided_then_slow(*args, **kwargs):
        result = real(*args, **kwargs)  # assessed and applied, not committed yet
        time.sleep(0.5)  # past the deadline (CORAL_TIMEOUT 0.2 s) before the commit
        return result

    monkeypatch.setattr(adapter, "decide_revisions", decided_then_slow)
    coral.config["CORAL_TIMEOUT"] = 0.2
    answer = coral_post(coral.test_client(), coral_request("Fine words about the park.")).get_json()
    assert answer == {"status": "SYSTEM_WITHHELD", "actions": CORAL_FLAG}
    drain_pool()
    [comment] = stored(coral)
    assert comment.status == "pending" and comment.decided_at is None


def test_model_not_loaded_yet_is_withheld_and_decided_later(make_app):
    intake = make_app(scorer=False)
    make_site(intake, coral_secret=CORAL_SECRET, callback_url="http://127.0.0.1:9/hooks")
    answer = coral_post(intake.test_client(), coral_request("Fine words about the park.")).get_json()
    assert answer["status"] == "SYSTEM_WITHHELD"
    drain_pool()  # on a busy machine the store may outlast Coral's budget: it finishes in its thread
    assert stored(intake)[0].status == "pending"
    worker_app = make_app()
    clock = Clock()
    clock.advance(seconds=worker_app.config["WORKER_GRACE_SECONDS"] + 1)  # no attempt on record: the grace
    with worker_app.app_context():
        Worker(worker_app, clock=clock).pending.step()
    assert stored(intake)[0].status == "approved"
    with worker_app.app_context():
        [message] = db.session.scalars(sa.select(OutboxMessage)).all()
        assert message.payload["data"]["status"] == "approved", "the decision is called back"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CommentRevision)) == 1


# -- failing closed: our errors never reach Coral as a non-2xx (Coral would publish) -----------
def test_a_malformed_deployment_lexicon_holds_the_comment_instead_of_500(make_app, tmp_path):
    (tmp_path / "lexicon.tsv").write_text("only-one-field\n", encoding="utf-8")
    app = make_app(CORAL_TIMEOUT=5.0)
    make_site(app, coral_secret=CORAL_SECRET)
    with app.app_context():
        warm_up(runtime.scorer())
    response = coral_post(app.test_client(), coral_request("Fine words about the park."))
    assert response.status_code == 200
    assert response.get_json() == {"status": "SYSTEM_WITHHELD", "actions": CORAL_FLAG}
    [comment] = stored(app)
    assert comment.status == "pending", "accepted, kept for the worker once the file is fixed"


def test_any_failure_while_storing_answers_withheld(coral, monkeypatch, caplog):
    from moderation.ingest import coral as adapter

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(adapter, "store_received", broken)
    with caplog.at_level("ERROR", logger="moderation.ingest.coral"):
        response = coral_post(coral.test_client(), coral_request("Fine words about the park."))
    assert response.status_code == 200 and response.get_json()["status"] == "SYSTEM_WITHHELD"
    assert any("SYSTEM_WITHHELD" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("failure", [
    __import__("sqlalchemy").exc.OperationalError("SELECT sites", {}, Exception("server closed the connection")),
    RuntimeError("the Coral secret cannot be decrypted"),
])
def test_a_failure_before_the_signature_is_checked_answers_withheld_not_an_error(coral, monkeypatch, caplog,
                                                                                  failure):
    """Looking the site up (the database) fails: Coral must not get the 503 or 500 it would publish on."""
    from moderation.ingest import views

    def broken(slug):
        raise failure

    monkeypatch.setattr(views, "load_site", broken)
    with caplog.at_level("ERROR", logger="moderation.ingest.coral"):
        response = coral_post(coral.test_client(), coral_request("Fine words about the park."))
    assert response.status_code == 200 and response.get_json() == {"status": "SYSTEM_WITHHELD",
                                                                   "actions": CORAL_FLAG}
    assert any("SYSTEM_WITHHELD" in r.getMessage() for r in caplog.records)
    assert stored(coral) == []


def test_slow_storing_does_not_delay_the_answer_and_the_comment_is_kept(coral, monkeypatch):
    from moderation.ingest import coral as adapter

    real = adapter.store_received
    release = __import__("threading").Event()

    def slow(*args, **kwargs):
        release.wait(10)  # as behind SQLite's 10 s busy timeout
        return real(*args, **kwargs)

    monkeypatch.setattr(adapter, "store_received", slow)
    coral.config["CORAL_TIMEOUT"] = 0.2
    answer = coral_post(coral.test_client(), coral_request("Fine words about the park.")).get_json()
    assert answer == {"status": "SYSTEM_WITHHELD", "actions": CORAL_FLAG}  # answered while storing waits
    release.set()
    deadline = time.monotonic() + 30
    while not stored(coral) and time.monotonic() < deadline:
        time.sleep(0.05)
    [comment] = stored(coral)
    assert comment.status == "pending"  # stored all the same; too late to score, the worker decides


def test_warm_up_failure_is_logged_not_swallowed(make_app, caplog):
    app = make_app(scorer=False)
    with app.app_context(), caplog.at_level("ERROR", logger="moderation.ingest.coral_scoring"):
        warm_up(runtime.scorer())
    [record] = [r for r in caplog.records if r.name == "moderation.ingest.coral_scoring"]
    assert "warm-up" in record.getMessage() and record.exc_info is not None
