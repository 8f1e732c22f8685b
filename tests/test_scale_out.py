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

# The tiny model's words (tests/tiny_detoxify.py): what each body is decided as.
BODIES = {
    "approved": "<p>Fine words number {n} about the park.</p>",
    "rejected": "<p>You idiot, number {n}.</p>",
    "queued": "<p>A stupid idea, number {n}.</p>",
}
KINDS = tuple(BODIES)


def _body(kind: str, n: int, edit: bool = False) -> str:
    return BODIES[kind].format(n=n).replace("</p>", " (edited)</p>" if edit else "</p>")


@dataclass
class MeetingReceiver(Receiver):
    """Holds the first callback until a second one arrives while it is held (bounded by `meet_within`).

    Each worker delivers one callback at a time, so two requests in flight at once come from two
    workers: with this, "both workers delivered" is a fact the test can assert, not a likely outcome.
    """

    meet_within: float = 20.0
    met: threading.Event = field(default_factory=threading.Event)
    held: int = 0
    _meeting_lock: threading.Lock = field(default_factory=threading.Lock)

    def _respond(self, handler) -> None:
        if not self.met.is_set():
            with self._meeting_lock:
                self.held += 1
                if self.held >= 2:
                    self.met.set()
            self.met.wait(self.meet_within)
            with self._meeting_lock:
                self.held -= 1
        super()._respond(handler)


@contextlib.contextmanager
def started_together(servers):
    """Enter the servers' contexts at the same time and exit them at the same time (each takes seconds)."""
    with ThreadPoolExecutor(len(servers)) as pool:
        futures = [pool.submit(server.__enter__) for server in servers]
    started = [server for server, future in zip(servers, futures) if future.exception() is None]
    try:  # (a server that failed to start has stopped itself)
        for future in futures:
            if future.exception() is not None:
                raise future.exception()
        yield [future.result() for future in futures]
    finally:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda server: server.__exit__(None, None, None), started))


class Drained:
    """A worker process's output, read as it comes (a full pipe would stop the worker)."""

    def __init__(self, process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def messages(self) -> list[str]:
        found = []
        for line in self.lines:
            with contextlib.suppress(ValueError):
                found.append(json.loads(line).get("message", ""))
        return found

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM, and once the worker says it stopped, SIGKILL: the interpreter's teardown with torch
        loaded takes seconds on a busy machine, and a clean stop is test_worker.py's subject."""
        self.terminate()
        try:
            wait_for(lambda: self.process.poll() is not None or "worker stopped" in self.messages(), timeout=30,
                     message="the worker to stop")
        finally:
            self.process.kill()
            self.process.wait(timeout=30)
        self.thread.join(5)


@needs_postgres
def test_two_web_processes_and_two_workers_share_the_work_and_do_nothing_twice(
        make_app, database_url, tiny_model, tmp_path):
    checkpoint, config_dir = tiny_model
    app = make_app()  # reads the shared database; cleans it after the test
    receiver = MeetingReceiver().start()
    credentials = make_site(app, callback_url=receiver.url)
    later = tmp_path / "model" / "appears-later.ckpt"  # the web processes' checkpoint: not there yet
    later.parent.mkdir()
    web_env = {
        "MODERATION_SCORER_RETRY_AFTER": "0",  # each request tries the model again
        "MODERATION_RATELIMIT_WEBHOOK": "1000 per minute",
        # One storage for both, as `redis://` would be for two machines.
        "MODERATION_RATELIMIT_STORAGE_URI": "sqlite://" + str(tmp_path / "ratelimits.sqlite3"),
        "MODERATION_LEXICON_PATH": str(tmp_path / "lexicon.tsv"),
    }
    worker_env = {
        "MODERATION_DETOXIFY_CHECKPOINT": str(checkpoint), "MODERATION_DETOXIFY_CONFIG_DIR": str(config_dir),
        "MODERATION_WORKER_BATCH_SIZE": "2", "MODERATION_CALLBACK_TIMEOUT": "30",  # > the receiver's hold
        "MODERATION_LEXICON_PATH": str(tmp_path / "lexicon.tsv"),
    }
    answers: list[tuple[int, str, int]] = []  # (web process, comment id, HTTP status)
    expected: dict[str, str] = {}  # comment id -> the status its latest body must end with
    revisions: Counter[str] = Counter()  # comment id -> revisions it must have

    servers = [gunicorn_served(database_url, (later, config_dir), workers=1, threads=4, env=web_env)
               for _ in range(2)]
    workers: list[Drained] = []
    try:
        # The workers can score from the start; they load torch and the model while the web
        # processes start and phase 1 is sent, so they may take some comments while they are edited.
        workers = [Drained(worker_process(database_url, tmp_path=tmp_path, extra_env=worker_env))
                   for _ in range(2)]
        with started_together(servers) as bases:
            def deliver(web: int, comment_id: str, body: str):
                """POST a new delivery to web process `web`; returns (answer, the delivery to replay)."""
                raw = json.dumps(comment_payload(comment_id, body)).encode()
                headers = sign(credentials.secret, raw) | {"Content-Type": "application/json"}
                return replay(web, comment_id, (raw, headers)), (raw, headers)

            def replay(web: int, comment_id: str, delivery):
                raw, headers = delivery
                response = requests.post(f"{bases[web]}/api/v1/sites/{credentials.slug}/comments", data=raw,
                                         headers=headers, timeout=30)
                answers.append((web, comment_id, response.status_code))
                assert response.status_code < 500, response.text
                return response

            def assert_replayed(original, again) -> None:
                assert again.status_code == original.status_code
                assert again.headers.get("Idempotent-Replayed") == "true"
                assert again.json() == original.json()

            def pending_or(kind: str, response) -> bool:
                """`pending` for a worker. Never already the worker's decision: a worker leaves a
                fresh comment to its webhook until the webhook's failed attempt is on record
                (MODERATION_WORKER_GRACE_SECONDS, 30 s, is far longer than these requests)."""
                return (response.status_code, response.json()["status"]) == (202, "pending")

            # -- 1. The web processes cannot score: every comment is answered `pending`, for a worker.
            first: dict[str, tuple] = {}
            for n in range(12):
                comment_id, kind = f"p{n}", KINDS[n % 3]
                response, delivery = deliver(n % 2, comment_id, _body(kind, n))
                assert pending_or(kind, response)
                first[comment_id] = (response, delivery, n % 2)
                expected[comment_id], revisions[comment_id] = kind, 1
            for n in range(4):  # the same delivery again, to the other process
                response, delivery, web = first[f"p{n}"]
                assert_replayed(response, replay(1 - web, f"p{n}", delivery))
            for n in range(3):  # edits, perhaps while a worker scores the first body
                kind = KINDS[(n + 1) % 3]
                response, delivery = deliver(n % 2, f"p{n}", _body(kind, n, edit=True))
                assert pending_or(kind, response) and response.json()["revision"] == 2
                expected[f"p{n}"], revisions[f"p{n}"] = kind, 2
                if n == 0:
                    assert_replayed(response, replay(1, "p0", delivery))
            # A first body sent again under a new delivery id changes nothing (no rollback, no new revision).
            stale, _ = deliver(1, "p1", _body(KINDS[1], 1))
            assert stale.status_code in (200, 202) and stale.json()["revision"] == 2

            # -- 2. The web processes' checkpoint appears. While they load it (/readyz loads it, so no
            # webhook waits for the load), the two workers decide the backlog and deliver its callbacks.
            shutil.copyfile(checkpoint, str(later) + ".part")
            os.replace(str(later) + ".part", later)
            with ThreadPoolExecutor(len(bases)) as pool:
                loading = [pool.submit(wait_for, lambda base=base: requests.get(base + "/readyz", timeout=40).ok,
                                       timeout=45, interval=0.2, message="a web process to load the model")
                           for base in bases]
                wait_for(lambda: _count_pending(app) == 0, timeout=45, message="the workers to decide the backlog")
                for future in loading:
                    future.result()

            # -- 3. The web processes score as requests arrive. The workers leave each fresh comment
            # to the webhook scoring it (no failed attempt, received within the grace), so the model
            # runs once per comment: every one of these is decided by its webhook (asserted below).
            for n in range(8):
                comment_id, kind = f"q{n}", KINDS[n % 3]
                response, delivery = deliver(n % 2, comment_id, _body(kind, n))
                assert response.status_code == 200 and response.json()["status"] == kind
                expected[comment_id], revisions[comment_id] = kind, 1
                if n < 4:
                    assert_replayed(response, replay(1 - n % 2, comment_id, delivery))
            for n in range(3, 7):  # edits of comments a worker decided
                kind = KINDS[(n + 2) % 3]
                response, delivery = deliver(n % 2, f"p{n}", _body(kind, n, edit=True))
                assert response.status_code == 200 and response.json()["revision"] == 2
                assert response.json()["status"] == kind
                expected[f"p{n}"], revisions[f"p{n}"] = kind, 2
                if n == 3:
                    assert_replayed(response, replay(0, "p3", delivery))

            # -- 4. Everything decided and every callback delivered.
            wait_for(lambda: _count_pending(app) == 0 and _callbacks_settled(app, receiver), timeout=40,
                     message="every comment decided and every callback delivered")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.stop()
        receiver.stop()

    state = _state(app)
    logs = [worker.messages() for worker in workers]
    delivered_by = [sum(" delivered (attempt " in m for m in messages) for messages in logs]
    decided_by = [sum(int(m.split()[1]) for m in messages if m.startswith("decided ")) for messages in logs]
    answered_by = Counter(web for web, _, _ in answers)
    print(f"\nweb processes answered {dict(answered_by)}; workers decided {decided_by} and delivered "
          f"{delivered_by} callbacks; {len(state.comments)} comments, {len(state.outbox)} callbacks; "
          f"with the model loaded, the web processes decided {state.scored_by_webhooks} of 12 webhooks")

    # No 5xx; both web processes answered.
    assert {code for _, _, code in answers} <= {200, 202}
    assert answered_by[0] > 10 and answered_by[1] > 10
    # Every comment decided, as its latest body deserves, with the revisions it was sent.
    assert state.comments == expected
    assert state.revisions == revisions
    # Each revision decided by an assessment at most once, and each comment's latest revision exactly
    # once (the rows of failed attempts, which decide nothing, are not counted).
    assert all(count == 1 for count in state.scored.values()), state.scored
    # With the model loaded, the 12 webhooks of phase 3 (8 new comments, 4 edits) were each decided
    # by their webhook, none by a worker: the workers left them alone while they were scored.
    # (Before the grace period, workers took 7 to 11 of these.)
    assert state.scored_by_webhooks == 12
    assert state.scored_by_workers + state.scored_by_webhooks == sum(state.scored.values())
    assert set(state.latest) <= set(state.scored)
    assert {f"p{n}" for n in range(3, 7)} <= state.decided_first  # decided before their edits
    # One callback per decision a worker made (the web processes answer theirs directly), each
    # delivered once: no webhook-id twice at the receiver.
    received = receiver.webhook_ids()
    assert len(received) == len(set(received)) == len(state.outbox) == state.scored_by_workers
    assert set(received) == set(state.outbox)
    assert {f"p{n}" for n in range(12)} <= state.called_back
    assert sum(delivered_by) == len(received)
    # The work was spread: two callbacks were in flight at once, so both workers delivered.
    assert receiver.met.is_set(), "only one worker delivered callbacks"
    # The worker's default: one torch thread (MODERATION_SCORING_THREADS unset).
    assert all("worker scoring with 1 torch thread(s)" in messages for messages in logs)


def _count_pending(app) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Comment).where(Comment.status == "pending"))
        db.session.remove()
    return count


def _callbacks_settled(app, receiver) -> bool:
    with app.app_context():
        statuses = list(db.session.scalars(sa.select(OutboxMessage.status)))
        db.session.remove()
    return all(status == "delivered" for status in statuses) and len(receiver.requests) >= len(statuses)


@dataclass
class State:
    comments: dict[str, str]          # external id -> status
    revisions: Counter                # external id -> revisions stored
    scored: Counter                   # revision id -> assessments that decided it (not `pending`)
    latest: list[int]                 # each comment's latest revision id
    decided_first: set[str]           # external ids whose first revision was decided
    scored_by_workers: int
    scored_by_webhooks: int
    outbox: list[str]                 # webhook ids, all of them delivered
    called_back: set[str]             # external ids with a callback


def _state(app) -> State:
    with app.app_context():
        comments = dict(db.session.execute(sa.select(Comment.external_id, Comment.status)).all())
        revision_rows = db.session.execute(
            sa.select(Comment.external_id, CommentRevision.id, CommentRevision.number, Comment.revision_count)
            .join(Comment, Comment.id == CommentRevision.comment_id)).all()
        # A failed attempt is kept as an assessment too, with status `pending` (and JSON null scores).
        scored_rows = db.session.execute(sa.select(StoredAssessment.revision_id, StoredAssessment.source)
                                         .where(StoredAssessment.status != "pending")).all()
        outbox = db.session.scalars(sa.select(OutboxMessage)).all()
        assert all(m.status == "delivered" for m in outbox)
        state = State(
            comments=comments,
            revisions=Counter(external_id for external_id, *_ in revision_rows),
            scored=Counter(revision_id for revision_id, _ in scored_rows),
            latest=[rid for _, rid, number, count in revision_rows if number == count],
            decided_first={external_id for external_id, rid, number, _ in revision_rows
                           if number == 1 and rid in {revision_id for revision_id, _ in scored_rows}},
            scored_by_workers=sum(source == "worker" for _, source in scored_rows),
            scored_by_webhooks=sum(source == "webhook" for _, source in scored_rows),
            outbox=[m.webhook_id for m in outbox],
            called_back={m.payload["data"]["external_id"] for m in outbox},
        )
        db.session.remove()
    return state


def _a_worker_steps_while_the_webhook_scores(app, worker, monkeypatch) -> tuple[list[int], object]:
    """POST c1 to `app`; while its webhook scores it, `worker` takes one step (in another thread).
    Returns (what the step claimed, the webhook's response)."""
    from moderation import decisions

    credentials = make_site(app, callback_url="http://127.0.0.1:9/hooks")
    worker.scorer.ensure_loaded()
    real_assess, webhook_thread, raced = decisions.assess, threading.get_ident(), []

    def a_worker_steps_meanwhile(*args, **kwargs):
        if threading.get_ident() == webhook_thread and not raced:
            def step() -> None:
                with worker.app.app_context():
                    raced.append(worker.pending.step())
                    db.session.remove()
            other = threading.Thread(target=step)
            other.start()
            other.join(60)
        return real_assess(*args, **kwargs)

    monkeypatch.setattr(decisions, "assess", a_worker_steps_meanwhile)
    response = signed_post(app.test_client(), credentials.slug, credentials.secret,
                           comment_payload("c1", "<p>Fine words about the park.</p>"))
    return raced, response


def _assessments_and_callbacks(app):
    with app.app_context():
        rows = db.session.execute(sa.select(StoredAssessment.source, StoredAssessment.status)).all()
        callbacks = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        status = db.session.scalar(sa.select(Comment.status))
    return [tuple(row) for row in rows], status, callbacks


def test_a_worker_leaves_the_comment_a_webhook_is_scoring_to_it(make_app, monkeypatch):
    """The race the scenario above used to hit, now avoided: a worker polling while the webhook
    scores a fresh revision (committed `pending`, no failed attempt, received within the grace)
    claims nothing, and the model runs once, in the webhook."""
    app = make_app()
    raced, response = _a_worker_steps_while_the_webhook_scores(app, Worker(make_app(), clock=Clock()),
                                                               monkeypatch)
    assert raced == [0], "the worker took a comment its webhook was scoring"
    assert response.status_code == 200 and response.get_json()["status"] == "approved"
    assert _assessments_and_callbacks(app) == ([("webhook", "approved")], "approved", 0)


def test_a_webhook_never_decides_again_what_a_worker_decided_while_it_scored(make_app, monkeypatch):
    """The race itself, for a webhook that takes longer than the worker's grace (here 0 s): the
    webhook stores a revision (`pending`, committed), scores it, and meanwhile a worker claims,
    scores and decides the same revision. The webhook's result is stale then; it used to be
    recorded as a second assessment, because the comment's status was read (reloaded after the
    commit) only after scoring, when it was already decided."""
    app = make_app()
    worker = Worker(make_app(WORKER_GRACE_SECONDS=0.0), clock=Clock())
    raced, response = _a_worker_steps_while_the_webhook_scores(app, worker, monkeypatch)
    assert raced == [1], "the worker did not decide the comment during the webhook's scoring"
    # The webhook answers with the worker's decision, which the worker's callback also carries.
    assert response.status_code == 200 and response.get_json()["status"] == "approved"
    assert _assessments_and_callbacks(app) == ([("worker", "approved")], "approved", 1)
