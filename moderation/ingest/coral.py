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

import hashlib
import json
import os
import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from .. import runtime
from ..assessments import record_assessment
from ..comments import apply_assessment, lock_unchanged
from ..extensions import db, limiter
from ..models import Comment, Site
from ..policy_versions import current_policy
from ..policy import DEFAULT_POLICY
from ..problems import Problem
from ..lexicon.store import lexicon
from ..scoring import Assessment, LazyScorer, Lexicon
from ..scoring.assess import assess
from .operations import Stored, store_comment
from .schemas import MAX_BODY_CHARS, MAX_ID, MAX_TAGS, IncomingComment
from .signatures import SignatureInvalid, verify_coral
from .views import (counts_against_site, decode_json, load_site, read_body, require_json, site_rate_key,
                    webhook_limit)

bp = Blueprint("coral", __name__, url_prefix="/api/v1")

ACTIONS = ("NEW", "EDIT")
HELD = {"status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]}
# Reason codes -> Coral's REJECTION_REASON_CODE (only codes every recent Coral release knows).
_ABUSIVE = {"identity_attack", "threat", "insult", "severe_toxicity", "ethnic_slur", "religious_slur", "slur"}


@dataclass(frozen=True)
class CoralRequest:
    action: str
    body: str
    comment_id: str | None
    parent_id: str | None
    author_id: str
    story_id: str
    story_url: str | None
    coral_site_id: str | None
    tenant_id: str | None

    def external_id(self) -> str:
        if self.comment_id:
            return f"coral:{self.comment_id}"[:MAX_ID]
        identity = [self.tenant_id, self.coral_site_id, self.story_id, self.author_id, self.parent_id, self.body]
        digest = hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()
        return f"coral:{digest[:40]}"

    def incoming(self) -> IncomingComment:
        return IncomingComment(
            external_id=self.external_id(), body=self.body, article_id=self.story_id,
            article_url=self.story_url, article_title=None, author_id=self.author_id, author_name=None,
            parent_id=self.parent_id, created_at=None, language=None,
        )


def _text(data: dict, key: str, errors: list[dict[str, str]], field: str, *, required: bool,
          limit: int = MAX_ID) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            errors.append({"field": field, "message": "is required"})
        return None
    if not isinstance(value, str):
        errors.append({"field": field, "message": f"must be a string, got {type(value).__name__}"})
        return None
    if len(value) > limit:
        errors.append({"field": field, "message": f"must be at most {limit} characters, got {len(value)}"})
        return None
    return value


def _object(data: dict, key: str, errors: list[dict[str, str]]) -> dict:
    value = data.get(key)
    if isinstance(value, dict):
        return value
    errors.append({"field": key, "message": "is required" if value is None else
                   f"must be an object, got {type(value).__name__}"})
    return {}


def parse_coral(data: Any) -> CoralRequest:
    """Check Coral's request; raise a 422 Problem listing every failing field."""
    if not isinstance(data, dict):
        raise Problem(422, "the request is not a Coral external moderation request", slug="invalid-fields",
                      errors=[{"field": "", "message": f"must be a JSON object, got {type(data).__name__}"}])
    errors: list[dict[str, str]] = []
    action = data.get("action")
    if action not in ACTIONS:
        errors.append({"field": "action", "message": f"must be one of {', '.join(ACTIONS)}, got {action!r}"})
    comment, author, story = (_object(data, key, errors) for key in ("comment", "author", "story"))
    site = data.get("site") if isinstance(data.get("site"), dict) else {}
    body = _text(comment, "body", errors, "comment.body", required=True, limit=MAX_BODY_CHARS)
    if body is not None and not body.strip():
        errors.append({"field": "comment.body", "message": "must not be empty"})
    elif body is not None and body.count("<") > MAX_TAGS:
        errors.append({"field": "comment.body", "message": f"must contain at most {MAX_TAGS} HTML tags"})
    story_url = _text(story, "url", errors, "story.url", required=False, limit=2000)
    request_ = CoralRequest(
        action=str(action), body=body or "",
        comment_id=_text(comment, "id", errors, "comment.id", required=False),
        parent_id=_text(comment, "parentID", errors, "comment.parentID", required=False),
        author_id=_text(author, "id", errors, "author.id", required=True) or "",
        story_id=_text(story, "id", errors, "story.id", required=True) or "",
        # Coral stories normally have http(s) URLs; anything else is dropped rather than refused.
        story_url=story_url if story_url and story_url.startswith(("http://", "https://")) else None,
        coral_site_id=_text(site, "id", errors, "site.id", required=False),
        # Older Coral releases send {tenant: {id, domain}}, newer ones tenantID/tenantDomain.
        tenant_id=_text(data, "tenantID", errors, "tenantID", required=False)
        or _text(data.get("tenant") if isinstance(data.get("tenant"), dict) else {}, "id", errors,
                 "tenant.id", required=False),
    )
    if errors:
        raise Problem(422, "the Coral request has invalid fields", slug="invalid-fields", errors=errors)
    return request_


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
@limiter.limit(webhook_limit, key_func=site_rate_key, deduct_when=counts_against_site)
def coral_phase(site: str):
    """Coral's external moderation phase for one new or edited comment."""
    started = time.monotonic()
    require_json()
    target = load_site(site)
    body = read_body()
    try:
        verify_coral(body, request.headers.get("X-Coral-Signature"), target.coral_secrets())
    except SignatureInvalid as error:
        raise Problem(401, f"Coral signature refused: {error}", slug="invalid-signature") from None
    coral = parse_coral(decode_json(body))
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
