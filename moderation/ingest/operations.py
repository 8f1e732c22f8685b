"""Receiving a comment: store it (a new comment, an edit or a redelivery), then decide it.

DESIGN §4: `webhook-id` is the delivery's idempotency key (a delivery already received is
answered what it was answered then, and changes nothing); the same body again is a
redelivery; a body an earlier revision had, or an edit sent (`updated_at`) before the current
revision, never rolls the comment back: the first is answered with the current state, the
second is kept in the history. Edits of one comment run one at a time (`lock_for_edit`).
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..callbacks.outbox import enqueue_comment_moderated
from ..comments.locks import lock_for_edit
from ..comments.payload import payload
from ..comments.revisions import SUPERSEDED, find_comment, has_body, last_number, latest_revision
from ..decisions import decide_revisions
from ..extensions import db
from ..models import Comment, CommentRevision, Delivery, Site, utcnow
from ..rows import insert_row, update_columns
from ..sanitise import Sanitised, sanitise
from ..scoring import LazyScorer
from .schemas import IncomingComment

logger = logging.getLogger(__name__)

__all__ = ["Received", "Stored", "body_hash", "find_comment", "latest_revision", "receive", "store_received"]

# How often storing is tried when concurrent first deliveries of one comment collide.
STORE_ATTEMPTS = 3
# A retried delivery keeps its webhook-id but is signed again (the 5-minute tolerance applies to
# each attempt's timestamp), so a webhook-id can come back as long as the sender retries: the
# Standard Webhooks reference schedule (Svix) makes its last attempt about 28 hours after the
# first. Kept well beyond that; a delivery forgotten since is answered from the comment's
# current state (a body it already has changes nothing), not as then.
KEEP_DELIVERIES = timedelta(days=3)


@dataclass
class Stored:
    comment: Comment
    revision: CommentRevision | None  # None: nothing to decide (a redelivery, or an edit older than the current)
    replayed: bool = False  # a body the comment already had: the answer is the stored state


class _AlreadyAnswered(Exception):
    def __init__(self, earlier: "Received") -> None:
        self.earlier = earlier


@dataclass
class Received:
    """What the webhook answers: the comment's payload, its status code, and whether it is a replay."""

    comment_id: int | None
    status: str
    body: dict[str, Any]
    status_code: int
    replayed: bool


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def _delivery_key(webhook_id: str) -> str:
    return webhook_id if len(webhook_id) <= 200 else "sha256:" + hashlib.sha256(webhook_id.encode()).hexdigest()


def _answer(comment: Comment, *, replayed: bool) -> Received:
    # 202 while the decision is still to come.
    code = 202 if comment.status == "pending" else 200
    return Received(comment.id, comment.status, payload(comment), code, replayed)


# Deliveries are written and read with Core (no ORM object is needed), by statements built once:
# building a statement costs SQLAlchemy more than running it.
_DELIVERIES = Delivery.__table__
_FIND_DELIVERY = (sa.select(_DELIVERIES.c.comment_id, _DELIVERIES.c.status_code, _DELIVERIES.c.answer)
                  .where(_DELIVERIES.c.site_id == sa.bindparam("d_site_id"),
                         _DELIVERIES.c.webhook_id == sa.bindparam("d_webhook_id")))
_FORGET_DELIVERIES = sa.delete(_DELIVERIES).where(_DELIVERIES.c.site_id == sa.bindparam("d_site_id"),
                                                  _DELIVERIES.c.received_at < sa.bindparam("d_before"))
_ADD_DELIVERY = sa.insert(_DELIVERIES).returning(_DELIVERIES.c.id)
_ANSWER_DELIVERY = (sa.update(_DELIVERIES).where(_DELIVERIES.c.id == sa.bindparam("d_id"))
                    .values(status_code=sa.bindparam("d_status_code"), answer=sa.bindparam("d_answer"))
                    .returning(_DELIVERIES.c.callback_owed))
# Only while the stored answer is still `202 pending`: once the first copy has stored its decision,
# this matches nothing (on PostgreSQL the row lock makes it wait for that commit, then re-check).
_OWE_CALLBACK = (sa.update(_DELIVERIES).where(_DELIVERIES.c.site_id == sa.bindparam("d_site_id"),
                                              _DELIVERIES.c.webhook_id == sa.bindparam("d_webhook_id"),
                                              _DELIVERIES.c.status_code == 202)
                 .values(callback_owed=True))


def _earlier_delivery(site: Site, key: str) -> Received | None:
    delivery = db.session.execute(_FIND_DELIVERY, {"d_site_id": site.id, "d_webhook_id": key}).first()
    if delivery is None:
        return None
    answer = dict(delivery.answer)
    return Received(delivery.comment_id, answer.get("status", ""), answer, delivery.status_code, True)


def _answered_as_then(site: Site, key: str, earlier: Received) -> Received:
    """A copy of a delivery seen before gets the answer the first copy stored.

    That answer is `202 pending` while the first copy is still deciding (a publisher's retry after
    its own timeout comes then), and `pending` promises a callback. The first copy decides without
    one, so the delivery is marked as owing it (committed before this answer goes out); the first
    copy queues the callback when it stores its decision. When it has stored it meanwhile, this
    copy is answered with the decision instead.
    """
    if earlier.status_code != 202:
        return earlier
    owed = db.session.execute(_OWE_CALLBACK, {"d_site_id": site.id, "d_webhook_id": key}).rowcount
    db.session.commit()
    if owed:
        return earlier
    return _earlier_delivery(site, key) or earlier


def store_comment(site: Site, incoming: IncomingComment, *, source: str = "webhook") -> Stored:
    """Add the comment or its new revision as `pending` (the caller commits before answering)."""
    # Hashed and sanitised before taking the lock (on SQLite, the database's write lock): other
    # requests need not wait for Bleach. Wasted only on a body the comment already had.
    digest = body_hash(incoming.body)
    cleaned = sanitise(incoming.body)
    comment_id = lock_for_edit(site.id, incoming.external_id)
    # Read under the lock; a comment not stored yet needs no query at all.
    comment = db.session.get(Comment, comment_id) if comment_id is not None else None
    if comment is not None:
        current = latest_revision(comment)
        if current is not None and current.body_sha256 == digest:
            return Stored(comment, None, replayed=True)
        if has_body(comment, digest):
            # An older body sent again (a replay or a late retry): it must not roll the comment back.
            return Stored(comment, None, replayed=True)
        if (current is not None and current.sent_at is not None and incoming.updated_at is not None
                and incoming.updated_at < current.sent_at):
            return Stored(comment, _keep_superseded(site, comment, incoming, digest, source, cleaned))
    is_edit = comment is not None
    previous_status = comment.status if is_edit else None
    number = last_number(comment) + 1 if is_edit else 1
    received = {
        "article_id": incoming.article_id, "article_url": incoming.article_url,
        "article_title": incoming.article_title, "author_id": incoming.author_id,
        "author_name": incoming.author_name, "parent_external_id": incoming.parent_id,
        "created_at": incoming.created_at, "language": incoming.language, "status": "pending",
        "html": cleaned.html, "text": cleaned.text, "scores": None, "reasons": [], "matches": [], "harm": 0.0,
        "score_attempts": 0, "scoring_error": None,
        # A new body is a new comment to judge: the earlier decision and its reasons no longer apply.
        "decided_at": None, "decided_by": None, "decided_by_user_id": None, "reason_code": None,
        "moderator_note": None, "claimed_by_user_id": None, "claimed_until": None,
        "revision_count": number, "received_at": utcnow(),
    }
    # Core statements, not the ORM's unit of work (every comment comes this way): the comment,
    # then its revision, the order a flush writes them in.
    if is_edit:
        update_columns(comment, received)
        db.session.expire(comment, ["revisions"])  # one more now, if they were loaded
    else:
        comment = insert_row(Comment, received | {"site_id": site.id, "external_id": incoming.external_id})
    revision = insert_row(CommentRevision, {
        "comment_id": comment.id, "number": number, "body": incoming.body, "body_sha256": digest,
        "html": cleaned.html, "text": cleaned.text, "language": incoming.language, "status": "pending",
        "sent_at": incoming.updated_at,
    })
    audit.write(
        "comment.edited" if is_edit else "comment.received", actor_type="publisher",
        actor_id=site.slug, site_id=site.id, comment_id=comment.id,
        from_status=previous_status, to_status="pending",
        details={"revision": revision.number, "source": source},
    )
    return Stored(comment, revision)


def _keep_superseded(site: Site, comment: Comment, incoming: IncomingComment, digest: str,
                     source: str, cleaned: Sanitised) -> None:
    """Keep an edit sent before the current revision as history; the comment does not change."""
    revision = CommentRevision(
        comment_id=comment.id, number=last_number(comment) + 1, body=incoming.body, body_sha256=digest,
        html=cleaned.html, text=cleaned.text, language=incoming.language, status=SUPERSEDED,
        sent_at=incoming.updated_at,
    )
    db.session.add(revision)
    audit.record("comment.edit_superseded", actor_type="publisher", actor_id=site.slug, site_id=site.id,
                 comment_id=comment.id, from_status=comment.status, to_status=comment.status,
                 reason="sent before the current revision",
                 details={"revision": revision.number, "source": source,
                          "updated_at": incoming.updated_at.isoformat() if incoming.updated_at else None})
    db.session.flush()
    return None


def _commit_keeping_state() -> None:
    """Commit without expiring the session's objects.

    What they hold is what this transaction just wrote, so reading them back (one SELECT per
    object: the site, the comment, its revision, the delivery) would only return the same
    values. Whatever others change after this commit is read where it matters: the decision
    takes the comment's lock and re-reads its state from the database (lock_unchanged).
    """
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def store_received(site: Site, incoming: IncomingComment, *, source: str,
                   before_commit: Callable[[Stored, bool], None] | None = None) -> Stored:
    """Store and commit, retrying when a concurrent first delivery of the same comment won the insert.

    `before_commit(stored, retry)` runs in the transaction; `retry` is true from the second try on.
    """
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            stored = store_comment(site, incoming, source=source)
            if before_commit is not None:
                before_commit(stored, attempt > 1)
            _commit_keeping_state()
            return stored
        except IntegrityError:
            db.session.rollback()
            if attempt == STORE_ATTEMPTS:
                raise
            # The other request stored the comment (or this very delivery): the next try sees it.
    raise AssertionError("unreachable")


def receive(site: Site, incoming: IncomingComment, *, webhook_id: str | None,
            scorer: LazyScorer | None, source: str = "webhook") -> Received:
    """Store, commit, decide and commit a delivery; a webhook-id seen before is answered as then."""
    key = _delivery_key(webhook_id) if webhook_id else None
    if key is not None and (earlier := _earlier_delivery(site, key)) is not None:
        return _answered_as_then(site, key, earlier)
    delivery_ids: list[int] = []

    def remember(stored: Stored, retry: bool) -> None:
        if key is None:
            return
        # No delivery had this key just before storing. A concurrent twin of this delivery that
        # committed since makes the insert below fail (UNIQUE site_id, webhook_id), and
        # store_received tries again: then it is found here, under the comment's lock, and
        # answered as the twin was.
        if retry and (earlier := _earlier_delivery(site, key)) is not None:
            raise _AlreadyAnswered(earlier)
        answer = _answer(stored.comment, replayed=stored.replayed)
        db.session.execute(_FORGET_DELIVERIES, {"d_site_id": site.id, "d_before": utcnow() - KEEP_DELIVERIES})
        # Executed at once (the comment is flushed): the same webhook-id at the same moment fails
        # here, not after storing.
        delivery_ids[:] = [db.session.execute(_ADD_DELIVERY, {
            "site_id": site.id, "webhook_id": key, "comment_id": stored.comment.id,
            "status_code": answer.status_code, "answer": answer.body}).scalar_one()]

    try:
        stored = store_received(site, incoming, source=source, before_commit=remember)
    except _AlreadyAnswered as answered:
        db.session.rollback()
        assert key is not None
        return _answered_as_then(site, key, answered.earlier)
    if stored.revision is None:
        return _answer(stored.comment, replayed=stored.replayed)
    decide_revisions(site, [stored.comment], [stored.revision], scorer, actor_type="model", notify=False,
                     source=source)
    received = _answer(stored.comment, replayed=False)
    if delivery_ids:
        owed = db.session.execute(_ANSWER_DELIVERY, {"d_id": delivery_ids[0], "d_status_code": received.status_code,
                                                     "d_answer": received.body}).scalar()
        if owed and received.status != "pending":  # still pending: the worker's decision calls back
            enqueue_comment_moderated(site, stored.comment)
    db.session.commit()
    return received
