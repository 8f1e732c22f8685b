"""Faults, proven: the database cut off, a web process killed mid-scoring, the model failing mid-batch,
a worker killed, the receiver down, the SQLite file read-only or its disk full. Nothing accepted is lost, nothing is approved unscored.

Each test prints a tally (comments sent / stored / decided, callbacks due / delivered) and asserts on it.
The database faults are real: a TCP proxy between the app and PostgreSQL that is cut and restored
(the shared server is never restarted), and a small tmpfs holding the SQLite file, filled up or
remounted read-only (needs root; skipped otherwise).
"""
from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentRevision, OutboxMessage, Site
from moderation.worker import Worker
from support import make_site
from test_callbacks_support import (  # noqa: F401 (receiver is a fixture)
    Clock, needs_postgres, post, receiver, wait_for, worker_process,
)


@dataclass
class Tally:
    sent: int
    stored: int
    decided: int
    approved_unscored: int
    revisions: int
    callbacks_due: int
    callbacks_delivered: int

    def __str__(self) -> str:
        return (f"sent {self.sent} / stored {self.stored} / decided {self.decided} "
                f"(approved unscored {self.approved_unscored}); callbacks due {self.callbacks_due} "
                f"/ delivered {self.callbacks_delivered}")


def tally(app, slug: str, sent: int, label: str) -> Tally:
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == slug))
        comments = list(db.session.scalars(sa.select(Comment).where(Comment.site_id == site_id)))
        outbox = list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.site_id == site_id)))
        revisions = db.session.scalar(sa.select(sa.func.count()).select_from(CommentRevision)
                                      .join(Comment, Comment.id == CommentRevision.comment_id)
                                      .where(Comment.site_id == site_id))
        result = Tally(
            sent=sent, stored=len(comments), decided=sum(c.status != "pending" for c in comments),
            approved_unscored=sum(c.status == "approved" and not c.scores for c in comments),
            revisions=revisions or 0, callbacks_due=len(outbox),
            callbacks_delivered=sum(m.status == "delivered" for m in outbox))
        db.session.remove()
    print(f"\n{label}: {result}")
    return result


# -- the database out of reach ----------------------------------------------------------------

class TcpProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL; cut() drops every connection and refuses new ones."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in (a, b):
                self._close(s)

    def _close(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self) -> None:
        """The server goes away: open connections drop, new ones are refused."""
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets = list(self._sockets)
        for s in sockets:
            self._close(s)

    def restore(self) -> None:
        self.start()


@pytest.fixture
def proxied(database_url):
    """(proxy, the test database's URL through it); PostgreSQL only."""
    marker = "127.0.0.1:5432"
    if not database_url.startswith("postgres") or marker not in database_url:
        pytest.skip("needs the PostgreSQL test database at 127.0.0.1:5432")
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    yield proxy, database_url.replace(marker, f"127.0.0.1:{proxy.port}")
    proxy.cut()


def _signed_post(app, credentials, comment_id: str, body: str, message_id: str | None = None):
    from support import comment_payload, signed_post

    return signed_post(app.test_client(), credentials.slug, credentials.secret, comment_payload(comment_id, body),
                       message_id=message_id or f"msg_{comment_id}")


@needs_postgres
def test_database_unreachable_answers_503_stores_nothing_and_the_retry_succeeds(make_app, proxied):
    proxy, url = proxied
    direct = make_app()  # the same database, not through the proxy: what is really stored (built first:
    app = make_app(DATABASE_URL=url)  # the fixture cleans up through the first app)
    credentials = make_site(direct)
    assert _signed_post(app, credentials, "c1", "<p>Fine words about the park.</p>").status_code == 200

    proxy.cut()  # down: the pooled connection drops and reconnecting is refused
    refused = _signed_post(app, credentials, "c2", "<p>Lovely park.</p>")
    assert refused.status_code == 503
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"].isdigit()
    assert refused.get_json()["title"] == "Service unavailable"
    down = tally(direct, "news", 2, "database down")
    assert (down.stored, down.revisions) == (1, 1)  # c2 not half-stored

    proxy.restore()
    retried = _signed_post(app, credentials, "c2", "<p>Lovely park.</p>")
    assert retried.status_code == 200 and retried.get_json()["status"] == "approved"
    after = tally(direct, "news", 2, "database back")
    assert (after.stored, after.decided, after.revisions, after.approved_unscored) == (2, 2, 2, 0)


@needs_postgres
def test_database_unreachable_tells_coral_withheld_not_503(make_app, proxied):
    """Coral publishes on anything but a 2xx: with the database down its comment is held instead."""
    from test_coral import CORAL_SECRET, coral_post, coral_request

    proxy, url = proxied
    direct = make_app()
    app = make_app(DATABASE_URL=url, CORAL_TIMEOUT=5.0)
    make_site(direct, coral_secret=CORAL_SECRET)
    assert coral_post(app.test_client(), coral_request("Fine words about the park.")).status_code == 200
    proxy.cut()
    refused = coral_post(app.test_client(), coral_request("More fine words about the park."))
    assert refused.status_code == 200 and refused.get_json()["status"] == "SYSTEM_WITHHELD"
    proxy.restore()


@needs_postgres
def test_database_restarted_between_store_and_decision_keeps_the_comment_pending(make_app, proxied, monkeypatch):
    """The connection drops after the comment was committed, while it is scored: 503, and the comment waits."""
    from moderation import decisions  # the one decision path every caller (the webhook included) goes through

    proxy, url = proxied
    direct = make_app()
    app = make_app(DATABASE_URL=url)
    credentials = make_site(direct)
    real_assess = decisions.assess

    def assess_while_the_server_restarts(*args, **kwargs):
        proxy.cut()
        try:
            return real_assess(*args, **kwargs)
        finally:
            proxy.restore()

    monkeypatch.setattr(decisions, "assess", assess_while_the_server_restarts)
    response = _signed_post(app, credentials, "c1", "<p>Fine words.</p>")
    assert response.status_code == 503 and "Retry-After" in response.headers
    monkeypatch.setattr(decisions, "assess", real_assess)
    waiting = tally(direct, "news", 1, "restarted mid-request")
    assert (waiting.stored, waiting.decided, waiting.revisions) == (1, 0, 1)  # stored, pending, whole

    retried = _signed_post(app, credentials, "c1", "<p>Fine words.</p>")
    assert retried.status_code == 202 and retried.headers.get("Idempotent-Replayed") == "true"
    # No attempt is on record (the request lost its database before it could write one), so
    # the worker leaves the comment to a webhook that might still be scoring it, for the grace.
    worker = Worker(direct, clock=(clock := Clock()))
    with direct.app_context():
        assert worker.pending.step() == 0
        clock.advance(seconds=direct.config["WORKER_GRACE_SECONDS"] + 1)
        assert worker.pending.step() == 1
    done = tally(direct, "news", 1, "after the worker")
    assert (done.stored, done.decided, done.revisions, done.approved_unscored) == (1, 1, 1, 0)


# -- a web process killed mid-scoring ------------------------------------------------------------

# In a process of its own: post one comment to the webhook and die (SIGKILL) once it is being scored.
_KILLED_MID_SCORING = """
import json, os, signal, sys
sys.path.insert(0, sys.argv[2])
from moderation import create_app, decisions
from support import comment_payload, signed_post
config, slug, secret = json.loads(sys.argv[1])
app = create_app(config)
app.instance_path = config["INSTANCE_PATH"]
decisions.assess = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
signed_post(app.test_client(), slug, secret, comment_payload("c1", "<p>Fine words.</p>"), message_id="msg_c1")
print("not killed")
"""


def test_web_process_killed_mid_scoring_leaves_the_comment_to_the_worker_after_the_grace(
        make_app, database_url, tmp_path, tiny_model):
    """The webhook committed the comment as `pending` and died scoring it: no attempt is on record,
    so the worker waits the grace (the webhook might still be scoring), then decides it."""
    app = make_app()
    credentials = make_site(app, callback_url="http://127.0.0.1:9/hooks")
    checkpoint, config_dir = tiny_model
    config = {"DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key", "TESTING": True,
              "LEXICON_PATH": str(tmp_path / "lexicon.tsv"), "INSTANCE_PATH": str(tmp_path),
              "RATELIMIT_STORAGE_URI": "sqlite://" + str(tmp_path / "ratelimits.sqlite3"),
              "DETOXIFY_CHECKPOINT": str(checkpoint), "DETOXIFY_CONFIG_DIR": str(config_dir)}
    web = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_SCORING,
         json.dumps([config, credentials.slug, credentials.secret]), str(Path(__file__).parent)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert web.returncode == -signal.SIGKILL, web.stdout + web.stderr
    killed = tally(app, "news", 1, "web process killed mid-scoring")
    assert (killed.stored, killed.revisions, killed.decided) == (1, 1, 0)

    grace = app.config["WORKER_GRACE_SECONDS"]
    worker = Worker(app, clock=(clock := Clock()))
    with app.app_context():
        assert worker.pending.step() == 0, "taken within the grace"
        clock.advance(seconds=grace + 1)
        assert worker.pending.step() == 1
    done = tally(app, "news", 1, "after the grace")
    assert (done.stored, done.decided, done.approved_unscored, done.callbacks_due) == (1, 1, 0, 1)


# -- the model -----------------------------------------------------------------------------------

def test_model_failing_mid_batch_leaves_that_batch_pending_until_it_recovers(make_app):
    intake = make_app(scorer=False)
    credentials = make_site(intake, callback_url="http://127.0.0.1:9/hooks")
    for n in range(6):
        assert post(intake, credentials, f"c{n}", f"<p>Fine words number {n}.</p>").status_code == 202
    app = make_app(WORKER_BATCH_SIZE=2)
    worker = Worker(app, clock=Clock())
    worker.scorer.ensure_loaded()
    backend = worker.scorer._loaded_backend()
    real_score, calls = backend.score, []

    def fails_on_the_second_batch(texts, boundaries=None):
        calls.append(len(texts))
        if len(calls) == 2:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return real_score(texts, boundaries)

    backend.score = fails_on_the_second_batch
    with app.app_context():
        while worker.pending.step():
            pass
    mid = tally(app, "news", 6, "model failed on batch 2")
    assert (mid.stored, mid.decided, mid.approved_unscored) == (6, 4, 0)
    assert mid.callbacks_due == 4  # a callback for each decision, none for the comments still pending

    now = worker.pending.monotonic()
    worker.pending.monotonic = lambda: now + 3600  # past the failed comments' backoff
    with app.app_context():
        while worker.pending.step():
            pass
    done = tally(app, "news", 6, "model recovered")
    assert (done.stored, done.decided, done.approved_unscored, done.callbacks_due) == (6, 6, 0, 6)


# -- a worker killed -------------------------------------------------------------------------------

def test_worker_killed_with_sigkill_mid_job_loses_nothing(make_app, database_url, tmp_path, tiny_model, receiver):
    intake = make_app(scorer=False)  # each webhook's attempt fails: the worker takes them without a grace
    credentials = make_site(intake, callback_url=receiver.url)
    sent = 24
    for n in range(sent):
        post(intake, credentials, f"c{n}", f"<p>Fine words number {n} about the park.</p>")
    checkpoint, config_dir = tiny_model
    env = {"MODERATION_DETOXIFY_CHECKPOINT": str(checkpoint), "MODERATION_DETOXIFY_CONFIG_DIR": str(config_dir),
           "MODERATION_WORKER_BATCH_SIZE": "1", "MODERATION_CALLBACK_LEASE_SECONDS": "1"}
    first = worker_process(database_url, tmp_path=tmp_path, extra_env=env)
    try:
        wait_for(lambda: _decided(intake) >= 2, timeout=120, interval=0.005,
                 message="the first worker to decide some comments")
        first.send_signal(signal.SIGKILL)  # no cleanup: a batch or a delivery may be half done
        first.wait(timeout=30)
    finally:
        first.kill()
    killed = tally(intake, "news", sent, "killed")
    assert killed.decided < sent, "the worker finished before it could be killed; the test proves nothing"
    assert killed.approved_unscored == 0

    # The restarted worker (in this process: one more process start would only add time).
    worker = Worker(make_app(CALLBACK_ALLOW_PRIVATE=True), clock=(clock := Clock()))
    for _ in range(4 * sent):
        clock.advance(seconds=5)  # past the killed worker's leases
        if not worker.run_once() and tally(intake, "news", sent, "restarted").callbacks_delivered == sent:
            break
    done = tally(intake, "news", sent, "after the restart")
    assert (done.stored, done.decided, done.approved_unscored) == (sent, sent, 0)
    assert (done.callbacks_due, done.callbacks_delivered) == (sent, sent)
    delivered = {r.headers.get("webhook-id") for r in receiver.requests}
    assert len(delivered) == sent  # each callback arrived; a redelivery repeats its webhook-id


def _decided(app) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Comment).where(Comment.status != "pending"))
        db.session.remove()
    return count or 0


# -- the callback receiver down ----------------------------------------------------------------

def test_callback_receiver_down_keeps_every_callback_until_it_is_back(make_app, receiver):
    app = make_app(CALLBACK_ALLOW_PRIVATE=True, CALLBACK_TIMEOUT=2.0)
    intake = make_app(scorer=False)
    credentials = make_site(app, callback_url=receiver.url)
    clock = Clock()
    worker = Worker(app, clock=clock)
    receiver.stop()  # connections refused
    for n in range(5):
        post(intake, credentials, f"c{n}", f"<p>Fine words number {n}.</p>")
        worker.run_once()
        clock.advance(minutes=30)
        worker.run_once()
    down = tally(app, "news", 5, "receiver down")
    assert (down.decided, down.callbacks_due, down.callbacks_delivered) == (5, 5, 0)
    receiver.start()
    for _ in range(5):
        clock.advance(hours=2)
        worker.run_once()
    up = tally(app, "news", 5, "receiver back")
    assert (up.callbacks_due, up.callbacks_delivered, up.approved_unscored) == (5, 5, 0)
    assert sorted(set(receiver.webhook_ids())) == sorted(set(receiver.webhook_ids()))  # once each, by id
    assert len(set(receiver.webhook_ids())) == 5


# -- the SQLite file: disk full, read-only -----------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs for the SQLite file (mounted as root; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip() or 'not root'})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def sqlite_on_small_disk(small_disk, tmp_path, tiny_model):
    from flask_migrate import upgrade

    from moderation import create_app

    checkpoint, config_dir = tiny_model
    app = create_app({"DATABASE_URL": f"sqlite:///{small_disk / 'moderation.sqlite3'}", "SECRET_KEY": "x",
                      "TESTING": True, "RATELIMIT_WEBHOOK": "1000 per minute",
                      "LEXICON_PATH": str(tmp_path / "lexicon.tsv"),
                      "DETOXIFY_CHECKPOINT": str(checkpoint), "DETOXIFY_CONFIG_DIR": str(config_dir)})
    app.instance_path = str(tmp_path)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def _fill(path: Path) -> None:
    with open(path, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass


def test_sqlite_disk_full_answers_503_and_the_retry_succeeds_once_there_is_room(sqlite_on_small_disk, small_disk):
    app = sqlite_on_small_disk
    credentials = make_site(app)
    assert _signed_post(app, credentials, "c1", "<p>Fine words.</p>").status_code == 200
    filler = small_disk / "filler"
    _fill(filler)
    big = "<p>" + "Fine words about the park and the peace talks. " * 400 + "</p>"  # > one free page
    refused = _signed_post(app, credentials, "c2", big)
    assert refused.status_code == 503 and refused.headers["Retry-After"].isdigit(), refused.get_data(as_text=True)
    assert refused.mimetype == "application/problem+json"
    full = tally(app, "news", 2, "disk full")
    assert (full.stored, full.revisions) == (1, 1)
    filler.unlink()
    retried = _signed_post(app, credentials, "c2", big)
    assert retried.status_code == 200, retried.get_data(as_text=True)
    done = tally(app, "news", 2, "room again")
    assert (done.stored, done.decided, done.revisions, done.approved_unscored) == (2, 2, 2, 0)


def test_sqlite_file_read_only_answers_503_and_the_retry_succeeds_once_writable(sqlite_on_small_disk, small_disk):
    app = sqlite_on_small_disk
    credentials = make_site(app)
    assert _signed_post(app, credentials, "c1", "<p>Fine words.</p>").status_code == 200
    with app.app_context():
        db.engine.dispose()  # the remount needs no open file; the app reconnects on its own
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        refused = _signed_post(app, credentials, "c2", "<p>Lovely park.</p>")
        assert refused.status_code == 503 and refused.headers["Retry-After"].isdigit()
        assert refused.mimetype == "application/problem+json"
    finally:
        with app.app_context():
            db.engine.dispose()
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    read_only = tally(app, "news", 2, "read-only")  # read back once writable: WAL needs to write to read
    assert (read_only.stored, read_only.revisions) == (1, 1)
    retried = _signed_post(app, credentials, "c2", "<p>Lovely park.</p>")
    assert retried.status_code == 200
    done = tally(app, "news", 2, "writable again")
    assert (done.stored, done.decided, done.approved_unscored) == (2, 2, 0)
