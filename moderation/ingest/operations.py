"""Receiving a comment: store it (a new comment, an edit or a redelivery), then decide it."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import sqlalchemy as sa

from .. import audit
from ..assessments import record_assessment
from ..comments import apply_assessment, lock_unchanged
from ..extensions import db
from ..lexicon.store import lexicon
from ..models import Comment, CommentRevision, Site, utcnow
from ..policy_versions import current_policy
from ..sanitise import sanitise
from ..scoring import LazyScorer
from ..scoring.assess import assess
from .schemas import IncomingComment

logger = logging.getLogger(__name__)


@dataclass
class Stored:
    comment: Comment
    revision: CommentRevision | None  # None: a redelivery of the current body; nothing new stored


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def find_comment(site_id: int, external_id: str) -> Comment | None:
    return db.session.scalar(
        sa.select(Comment).where(Comment.site_id == site_id, Comment.external_id == external_id)
    )


def latest_revision(comment: Comment) -> CommentRevision | None:
    return db.session.scalar(
        sa.select(CommentRevision).where(CommentRevision.comment_id == comment.id)
        .order_by(CommentRevision.number.desc()).limit(1)
    )


def store_comment(site: Site, incoming: IncomingComment, *, source: str = "webhook") -> Stored:
    """Add the comment or its new revision as `pending` (the caller commits before answering)."""
    digest = body_hash(incoming.body)
    comment = find_comment(site.id, incoming.external_id)
    if comment is not None:
        current = latest_revision(comment)
        if current is not None and current.body_sha256 == digest:
            return Stored(comment, None)
    cleaned = sanitise(incoming.body)
    is_edit = comment is not None
    if comment is None:
        comment = Comment(site_id=site.id, external_id=incoming.external_id, revision_count=0)
        db.session.add(comment)
    previous_status = comment.status if is_edit else None
    comment.article_id = incoming.article_id
    comment.article_url = incoming.article_url
    comment.article_title = incoming.article_title
    comment.author_id = incoming.author_id
    comment.author_name = incoming.author_name
    comment.parent_external_id = incoming.parent_id
    comment.created_at = incoming.created_at
    comment.language = incoming.language
    comment.status = "pending"
    comment.html, comment.text = cleaned.html, cleaned.text
    comment.scores, comment.reasons, comment.matches = None, [], []
    comment.harm = 0.0
    comment.score_attempts = 0
    comment.decided_at = comment.decided_by = comment.decided_by_user_id = None
    comment.claimed_by_user_id = comment.claimed_until = None
    comment.revision_count = (comment.revision_count or 0) + 1
    comment.received_at = utcnow()
    db.session.flush()
    revision = CommentRevision(
        comment_id=comment.id, number=comment.revision_count, body=incoming.body,
        body_sha256=digest, html=cleaned.html, text=cleaned.text, language=incoming.language,
        status="pending",
    )
    db.session.add(revision)
    audit.record(
        "comment.edited" if is_edit else "comment.received", actor_type="publisher",
        actor_id=site.slug, site_id=site.id, comment_id=comment.id,
        from_status=previous_status, to_status="pending",
        details={"revision": revision.number, "source": source},
    )
    db.session.flush()
    return Stored(comment, revision)


def decide_stored(site: Site, stored: Stored, scorer: LazyScorer | None, language: str | None) -> None:
    """Score and decide a freshly stored revision (the caller commits).

    Any failure leaves the comment `pending` for the worker: it is never approved by default.
    """
    assert stored.revision is not None
    version, policy = current_policy(site)
    try:
        [assessment] = assess([stored.revision.text], policy, scorer, lexicon=lexicon(site.id),
                              languages=[language])
    except Exception:  # a bug in scoring must not lose or approve the comment
        logger.exception("assessment failed; comment %s stays pending", stored.comment.id)
        return
    if stored.comment.id not in lock_unchanged([stored.comment], [stored.revision]):
        return  # edited or decided meanwhile: that newer state stands
    apply_assessment(stored.comment, stored.revision, assessment, version, actor_type="model")
    record_assessment(stored.comment, stored.revision, assessment, version, source="webhook")
