"""Coral (coralproject/talk) external moderation phase: the view, from Coral's signed request to its answer.

Coral POSTs `JSON.stringify(request, null, 2)` signed as `X-Coral-Signature: sha256=<hex
HMAC-SHA256(secret, body)>` (one per active secret, comma-separated), waits the phase's
timeout (200 ms by default), and on anything but a 2xx JSON answer carries on as if the phase
had said nothing: it publishes. So the answer must come in time and our own failures must
not show as errors: the comment is stored and scored in a helper thread (coral_scoring) while
this thread waits the time that is left; if the decision is not ready, or anything fails,
Coral is told SYSTEM_WITHHELD: held for review, never published unscored. A stored comment
left `pending` is decided by the worker.

Coral sends no comment id in this phase, so the external id is derived from what identifies
the comment (coral_request). The same comment sent twice is one comment (answered from the
stored decision); an EDIT, having a new body, is stored as a new comment. If a request
carries `comment.id`, that id is used and an EDIT is a revision.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import runtime
from ..decisions import decide_revisions
from ..extensions import db
from ..models import Site
from ..problems import Problem
from ..scoring import LazyScorer
from . import quota
from .coral_answer import coral_answer, held
from .coral_request import CoralRequest, parse_coral
from .coral_scoring import CoralCollector, bounded_assessor, count_answer, submit, tail, warm_status, warm_up
from .operations import store_received
from .signatures import verify_coral
from .views import parse_signed, receive_signed

logger = logging.getLogger(__name__)

bp = Blueprint("coral", __name__, url_prefix="/api/v1")
STATUS_HEADER = "Moderation-Comment-Status"


@bp.record_once
def _register(state) -> None:
    state.app.extensions.setdefault("moderation.metrics_collectors", []).append(CoralCollector())
    state.app.extensions.setdefault("moderation.readiness_checks", []).append(coral_readiness)


def coral_readiness() -> tuple[str, str | None]:
    """/readyz: this process scores Coral's comments in time only once warm (warming it if need be,
    as /readyz loads the model: under `moderation serve` each worker is warm before it serves)."""
    scorer = runtime.scorer()
    loaded, _ = scorer.status()
    if loaded:
        warm_up(scorer)  # at once when warm; returns while another thread warms
    return "coral", warm_status(scorer)


class AnswerGate:
    """Who speaks first: the view answering Coral without a decision, or the decision's commit.

    The helper thread commits a decision only while Coral has not been answered, and the view
    answers SYSTEM_WITHHELD only while no decision is committed. Without it, a commit landing a
    moment after the view gave up kept a decision Coral never heard of (the comment waits in
    Coral's queue), with no callback; now the comment stays pending and the worker decides it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answered = False  # Coral was told SYSTEM_WITHHELD
        self.committed = False  # the decision is in the database

    def commit_unless_answered(self) -> bool:
        with self.lock:
            if self.answered:
                db.session.rollback()
                return False
            db.session.commit()
            self.committed = True
            return True

    def answer_unless_committed(self) -> bool:
        """True: the view may answer without the decision (and no decision will be kept)."""
        with self.lock:  # waits out a commit in progress (milliseconds)
            if self.committed:
                return False
            self.answered = True
            return True


def store_and_decide(app: Flask, site_id: int, coral: CoralRequest, scorer: LazyScorer,
                     deadline: float, gate: AnswerGate | None = None) -> tuple[int, str, dict[str, Any]]:
    """In a pool thread: store the comment (always), decide it if there is time; (id, status, answer)."""
    gate = gate or AnswerGate()
    with app.app_context():  # its own session, removed when the context ends
        site = db.session.get(Site, site_id)
        stored = store_received(site, coral.incoming(), source="coral")
        if stored.revision is not None:
            decide_revisions(site, [stored.comment], [stored.revision], scorer, actor_type="model",
                             notify=False, assessor=bounded_assessor(scorer, deadline), source="coral")
            if not gate.commit_unless_answered():
                logger.info("Coral comment %s decided after its answer; left pending for the worker",
                            stored.comment.id)
                return stored.comment.id, "pending", held()
        return stored.comment.id, stored.comment.status, coral_answer(stored.comment)


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the session is discarded with the request
        logger.debug("rollback after a failed Coral request failed too", exc_info=True)


@bp.post("/sites/<site>/integrations/coral")
def coral_phase(site: str):
    """Coral's external moderation phase for one new or edited comment."""
    started = time.monotonic()
    try:
        target, body = receive_signed(
            site, lambda target, body: verify_coral(body, request.headers.get("X-Coral-Signature"),
                                                    target.coral_secrets()),
            "Coral signature refused")
    except quota.SiteOverQuota:
        # A 429 would make Coral publish the comment unmoderated: held, not stored, not scored.
        logger.warning("Coral request for site %s over the webhook quota; answering SYSTEM_WITHHELD", site)
        count_answer("refused")
        g.decision = "withheld"
        return jsonify(held())
    except (Problem, HTTPException):
        raise  # not Coral's request (no JSON, unknown site, bad signature): Coral never sends these
    except Exception:
        # Our failure before the signature could be checked (the database down: 503 elsewhere; a
        # secret that cannot be decrypted): any error status would make Coral publish the comment.
        logger.exception("Coral request for site %s failed before its signature was checked; "
                         "answering SYSTEM_WITHHELD", site)
        _rollback_quietly()
        count_answer("error")
        return jsonify(held())
    try:
        coral = parse_signed(parse_coral, body, "the Coral request")
    except Problem as refusal:
        # Signed by Coral, so the comment is real: a 4xx would make Coral publish it unmoderated
        # (a comment with a NUL or 2,001 '<' in it would slip through). Held for a human instead.
        logger.warning("Coral request for site %s not readable (%s: %s); answering SYSTEM_WITHHELD",
                       target.slug, refusal.status, [e.get("field") for e in refusal.errors or []] or refusal.detail)
        count_answer("refused")
        g.decision = "withheld"
        return jsonify(held())
    config = current_app.config
    # The margin keeps time for storing the decision and answering; the tail, what answering has
    # lately taken on this machine beyond that (see coral_scoring.Tail).
    timeout = float(config["CORAL_TIMEOUT"])
    budget = timeout - float(config["CORAL_MARGIN_SECONDS"]) - min(tail().allowance(), timeout / 2)
    deadline = started + budget
    gate = AnswerGate()
    try:
        future = submit(store_and_decide, current_app._get_current_object(), target.id, coral,
                        runtime.scorer(), deadline, gate)
        try:
            g.comment_id, g.decision, answer = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            if gate.answer_unless_committed():
                raise
            # Committed while the wait ran out: the decision is kept, so it is what Coral hears.
            g.comment_id, g.decision, answer = future.result()
        count_answer("undecided" if g.decision == "pending" else "decided")
    except FutureTimeout:
        # Storing or scoring goes on in its thread; the worker decides what it leaves pending.
        logger.warning("Coral answer held: no decision within %.3f s", budget)
        count_answer("timeout")
        answer = held()
    except Exception:  # our failure must not become Coral's "publish"
        logger.exception("Coral request failed; answering SYSTEM_WITHHELD")
        count_answer("error")
        answer = held()
    response = jsonify(answer)
    # Once the last byte is sent: how far past the deadline it left (the request thread may wait
    # for a core after its wait ends), kept back from the next budgets.
    response.call_on_close(lambda: tail().record(time.monotonic() - deadline))
    if "decision" in g:
        # The comment's state when the answer left (Coral ignores it; benchmarks and operators
        # tell a decision from a hold with it): absent when no decision came in time.
        response.headers[STATUS_HEADER] = g.decision
    return response
