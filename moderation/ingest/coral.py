"""Coral (coralproject/talk) external moderation phase: Coral's signed request in, Coral's answer out.

Coral POSTs `JSON.stringify(request, null, 2)` signed as `X-Coral-Signature: sha256=<hex
HMAC-SHA256(secret, body)>` (one per active secret, comma-separated), waits the phase's
timeout (200 ms by default), and on anything but a 2xx JSON answer carries on as if the phase
had said nothing. So the answer must come in time: the comment is stored first (accepted
means never lost), scored in a helper thread with the time that is left, and if the score is
not ready, or the model is not loaded yet, Coral is told SYSTEM_WITHHELD: held for review,
never published unscored. The comment stays `pending` and the worker decides it.

Coral sends no comment id in this phase, so the external id is derived from what identifies
the comment: tenant, site, story, author, parent and body. The same comment sent twice is
one comment (answered from the stored decision); an EDIT, having a new body, is stored as a
new comment. If a request carries `comment.id`, that id is used and an EDIT is a revision.
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from .. import runtime
from ..assessments import record_assessment
from ..comments import apply_assessment, lock_unchanged
from ..extensions import db
from ..models import Comment, Site
from ..policy_versions import current_policy
from ..policy import DEFAULT_POLICY
from ..lexicon.store import lexicon
from ..scoring import Assessment, LazyScorer, Lexicon
from ..scoring.assess import assess
from .operations import Stored, store_comment
from .coral_request import parse_coral
from .schemas import IncomingComment
from .signatures import verify_coral
from .views import parse_signed, receive_signed

bp = Blueprint("coral", __name__, url_prefix="/api/v1")

HELD = {"status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]}
# Reason codes -> Coral's REJECTION_REASON_CODE (only codes every recent Coral release knows).
_ABUSIVE = {"identity_attack", "threat", "insult", "severe_toxicity", "ethnic_slur", "religious_slur", "slur"}


def coral_answer(comment: Comment) -> dict[str, Any]:
    """The comment's status in Coral's terms."""
    if comment.status == "approved":
        return {"status": "APPROVED"}
    if comment.status == "rejected":
        return {"status": "REJECTED", "moderationAction": {"rejectionReason": {"code": rejection_code(comment)}}}
    return dict(HELD)  # queued for a human, or pending a score: held, never published unscored


def rejection_code(comment: Comment) -> str:
    codes = {reason.get("code") for reason in comment.reasons or []}
    if "banned_word" in codes:
        return "BANNED_WORD"
    if codes & _ABUSIVE:
        return "ABUSIVE"
    return "OFFENSIVE"


# -- scoring against the clock ---------------------------------------------------------------
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """A small per-process pool (created on first use, again after a fork: threads do not survive it)."""
    global _executor, _executor_pid
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="coral-score")
            _executor_pid = os.getpid()
        return _executor


def _assess_before(deadline: float, text: str, policy, scorer: LazyScorer,
                   lexicon: Lexicon) -> Assessment | None:
    if time.monotonic() >= deadline:
        return None  # queued behind slower requests: Coral has its answer already
    [assessment] = assess([text], policy, scorer, lexicon=lexicon, languages=[None])
    return assessment


# scorer -> the pid it was warmed in (a forked child must warm its own copy's thread settings)
_warmed: weakref.WeakKeyDictionary[LazyScorer, int] = weakref.WeakKeyDictionary()
_warming = threading.Lock()


def warm_up(scorer: LazyScorer) -> None:
    """Load the model and the pipeline's other lazy parts (the language identifier alone takes
    about half a second) so that a Coral request never pays for them; safe to call repeatedly."""
    if _warmed.get(scorer) == os.getpid() or not _warming.acquire(blocking=False):
        return
    try:
        scorer.ensure_loaded()
        assess(["A warm-up sentence, long enough for language detection."], DEFAULT_POLICY, scorer)
        _warmed[scorer] = os.getpid()
    except Exception:  # a load failure is remembered by the scorer and reported by /readyz
        pass
    finally:
        _warming.release()


def assess_within(site: Site, stored: Stored, seconds: float) -> tuple[Assessment | None, int | None]:
    """Score the new revision if it can be done in `seconds`; None when it cannot."""
    scorer = runtime.scorer()
    if _warmed.get(scorer) != os.getpid():
        # Loading takes seconds: start it for the next requests, hold this comment.
        _pool().submit(warm_up, scorer)
        return None, None
    if seconds <= 0:
        return None, None
    version, policy = current_policy(site)
    deadline = time.monotonic() + seconds
    future: Future = _pool().submit(_assess_before, deadline, stored.revision.text, policy, scorer,
                                    lexicon(site.id))
    try:
        return future.result(timeout=seconds), version
    except FutureTimeout:
        return None, None  # the thread finishes on its own; its result is dropped, the worker decides


# -- the view ------------------------------------------------------------------------------------
def _store(site: Site, incoming: IncomingComment) -> Stored:
    try:
        stored = store_comment(site, incoming, source="coral")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the same comment arrived twice at once: treat as a redelivery
        stored = store_comment(site, incoming, source="coral")
        db.session.commit()
    return stored


@bp.post("/sites/<site>/integrations/coral")
def coral_phase(site: str):
    """Coral's external moderation phase for one new or edited comment."""
    started = time.monotonic()
    target, body = receive_signed(
        site, lambda target, body: verify_coral(body, request.headers.get("X-Coral-Signature"),
                                                target.coral_secrets()),
        "Coral signature refused")
    coral = parse_signed(parse_coral, body, "the Coral request")
    stored = _store(target, coral.incoming())
    if stored.revision is not None:
        config = current_app.config
        budget = float(config["CORAL_TIMEOUT"]) - float(config["CORAL_MARGIN_SECONDS"])
        assessment, version = assess_within(target, stored, budget - (time.monotonic() - started))
        if (assessment is not None and assessment.status != "pending"
                and stored.comment.id in lock_unchanged([stored.comment], [stored.revision])):
            apply_assessment(stored.comment, stored.revision, assessment, version, actor_type="model")
            record_assessment(stored.comment, stored.revision, assessment, version, source="coral")
            db.session.commit()
    g.comment_id, g.decision = stored.comment.id, stored.comment.status
    return jsonify(coral_answer(stored.comment))
