"""Write side of the review UI: decide, bulk-decide, claim and undo.

Each function changes rows and flushes; the view commits once at the request boundary, so a
decision, its audit row and its outbox callback land together or not at all.

Races are settled by conditional UPDATEs (`... WHERE status = <the status the moderator saw>
AND <no one else's live claim>`): on PostgreSQL the second of two concurrent writers waits
for the first's row lock and then matches nothing; on SQLite writers are serialised. A
decision that matches nothing is explained to the moderator and changes nothing.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.sql.elements import ColumnElement

from .. import audit
from ..callbacks.outbox import enqueue_comment_moderated
from ..extensions import db
from ..models import STATUSES, AuditEntry, Comment, User, utcnow
from .access import NotVisible, comment_for
from .reasons import REASON_CODES, REASON_LABELS

DECIDED = "comment.moderated"
UNDONE = "comment.decision_undone"
DECISIONS = ("approved", "rejected")
UNDECIDED = ("queued", "pending")
MAX_BULK = 100
NOTE_MAX = 1000
DEFAULT_CLAIM_SECONDS = 300
DEFAULT_UNDO_SECONDS = 120


class InvalidAction(ValueError):
    """A request that cannot be carried out as sent (bad decision, missing reason code...)."""


@dataclass(frozen=True)
class ActionResult:
    comment_id: int
    ok: bool
    status: str | None  # the comment's status after the attempt (None: not visible)
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.comment_id, "ok": self.ok, "status": self.status, "message": self.message}


def claim_seconds() -> int:
    return int(current_app.config.get("REVIEW_CLAIM_SECONDS", DEFAULT_CLAIM_SECONDS))


def undo_seconds() -> int:
    return int(current_app.config.get("REVIEW_UNDO_SECONDS", DEFAULT_UNDO_SECONDS))


def _claim_free_for(user: User, now: datetime) -> ColumnElement[bool]:
    """No one else holds a live claim on the comment."""
    return sa.or_(Comment.claimed_by_user_id.is_(None), Comment.claimed_by_user_id == user.id,
                  Comment.claimed_until.is_(None), Comment.claimed_until <= now)


def _update(comment_id: int, *conditions: ColumnElement[bool], **values: Any) -> bool:
    """A conditional UPDATE of one comment; True if it matched."""
    result = db.session.execute(
        sa.update(Comment).where(Comment.id == comment_id, *conditions).values(**values),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def _email(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.email if user is not None else "another moderator"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%H:%M UTC") if moment else "an unknown time"


def describe_decider(comment: Comment) -> str:
    if comment.decided_by == "human":
        return _email(comment.decided_by_user_id)
    return {"model": "the model", "words": "the word lists", "policy": "the policy"}.get(
        comment.decided_by or "", "the service")


def _explain_refusal(comment: Comment, user: User, expected: str, now: datetime) -> str:
    """Why a conditional update matched nothing, in words a moderator can act on."""
    if comment.status != expected:
        if comment.status in DECISIONS:
            return (f"Already {comment.status} by {describe_decider(comment)} at {_when(comment.decided_at)}; "
                    "your decision was not applied.")
        return (f"This comment changed since you loaded it (it is now {comment.status}); "
                "your decision was not applied. Reload to see it.")
    if comment.claimed_by_user_id not in (None, user.id) and comment.claimed_until and comment.claimed_until > now:
        return (f"{_email(comment.claimed_by_user_id)} is reviewing this comment "
                f"(claimed until {_when(comment.claimed_until)}); pick another one.")
    return "This comment changed while you acted; reload and try again."


def _state(comment: Comment) -> dict[str, Any]:
    """What a decision overwrites, kept in its audit row so the decision can be undone."""
    return {"status": comment.status, "decided_by": comment.decided_by,
            "decided_by_user_id": comment.decided_by_user_id,
            "decided_at": comment.decided_at.isoformat() if comment.decided_at else None,
            "reason_code": comment.reason_code, "moderator_note": comment.moderator_note}


def _validate(decision: str, reason_code: str | None, note: str | None,
              expected_status: str) -> tuple[str | None, str | None]:
    if decision not in DECISIONS:
        raise InvalidAction(f"decision must be approved or rejected; got {decision!r}")
    if expected_status not in STATUSES:
        raise InvalidAction(f"expected_status must be one of {', '.join(STATUSES)}; got {expected_status!r}")
    reason_code = (reason_code or "").strip() or None
    if decision == "rejected":
        if reason_code not in REASON_CODES:
            raise InvalidAction("a rejection needs a reason code: one of " + ", ".join(REASON_CODES))
    else:
        reason_code = None
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise InvalidAction(f"the note is {len(note)} characters long; at most {NOTE_MAX} fit")
    return reason_code, note


def decide(user: User, comment_id: int, *, decision: str, expected_status: str,
           reason_code: str | None = None, note: str | None = None, batch: str | None = None) -> ActionResult:
    """Approve or reject one comment, if it is still in the status the moderator saw."""
    reason_code, note = _validate(decision, reason_code, note, expected_status)
    try:
        comment = comment_for(user, comment_id)
    except NotVisible:
        return ActionResult(comment_id, False, None, "No such comment on your sites.")
    if comment.status == decision and expected_status == decision:
        return ActionResult(comment_id, False, comment.status, f"This comment is already {decision}.")
    now = utcnow()
    previous = _state(comment)
    matched = _update(
        comment_id, Comment.status == expected_status, _claim_free_for(user, now),
        status=decision, decided_at=now, decided_by="human", decided_by_user_id=user.id,
        reason_code=reason_code, moderator_note=note, claimed_by_user_id=None, claimed_until=None,
        updated_at=now,
    )
    db.session.refresh(comment)
    if not matched:
        return ActionResult(comment_id, False, comment.status, _explain_refusal(comment, user, expected_status, now))
    audit.record(DECIDED, actor_type="user", actor_id=user.email, site_id=comment.site_id,
                 comment_id=comment.id, from_status=expected_status, to_status=decision,
                 reason=reason_code, details={"user_id": user.id, "batch": batch or new_batch(),
                                              "note": note, "previous": previous})
    enqueue_comment_moderated(comment.site, comment)
    label = f" ({REASON_LABELS[reason_code]})" if reason_code else ""
    return ActionResult(comment_id, True, decision, f"{decision.capitalize()}{label}.")


def decide_many(user: User, comment_ids: Iterable[int], *, decision: str, expected_status: str,
                reason_code: str | None = None, note: str | None = None) -> list[ActionResult]:
    """The same decision on a selection; each comment succeeds or is refused on its own."""
    ids = list(dict.fromkeys(comment_ids))
    if not ids:
        raise InvalidAction("select at least one comment")
    if len(ids) > MAX_BULK:
        raise InvalidAction(f"at most {MAX_BULK} comments at once; {len(ids)} were selected")
    _validate(decision, reason_code, note, expected_status)
    batch = new_batch()  # one undo takes back the whole selection
    return [decide(user, cid, decision=decision, expected_status=expected_status, reason_code=reason_code,
                   note=note, batch=batch) for cid in ids]


def new_batch() -> str:
    return secrets.token_hex(8)


def claim(user: User, comment_id: int, *, release: int | None = None) -> ActionResult:
    """Hold an undecided comment for a few minutes so no one else works it meanwhile."""
    try:
        comment = comment_for(user, comment_id)
    except NotVisible:
        return ActionResult(comment_id, False, None, "No such comment on your sites.")
    now = utcnow()
    if release is not None and release != comment_id:
        release_claim(user, release)
    if comment.status not in UNDECIDED:
        return ActionResult(comment_id, True, comment.status, "Decided already; nothing to claim.")
    until = now + timedelta(seconds=claim_seconds())
    matched = _update(comment_id, Comment.status.in_(UNDECIDED), _claim_free_for(user, now),
                      claimed_by_user_id=user.id, claimed_until=until)
    db.session.refresh(comment)
    if not matched:
        return ActionResult(comment_id, False, comment.status,
                       _explain_refusal(comment, user, comment.status, now))
    return ActionResult(comment_id, True, comment.status, f"Yours until {_when(until)}.")


def release_claim(user: User, comment_id: int) -> None:
    _update(comment_id, Comment.claimed_by_user_id == user.id, claimed_by_user_id=None, claimed_until=None)


def undo_last(user: User) -> list[ActionResult]:
    """Take back the user's last decision (or last bulk decision) if made within the undo window.

    A comment is restored only if nothing happened to it since (no later audit row): an edit
    by the publisher or another moderator's decision is never overwritten by an undo.
    """
    since = utcnow() - timedelta(seconds=undo_seconds())
    recent = list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.actor_id == user.email, AuditEntry.action.in_((DECIDED, UNDONE)))
        .order_by(AuditEntry.id.desc()).limit(MAX_BULK)))
    if not recent or recent[0].action == UNDONE or recent[0].at < since:
        raise InvalidAction(f"Nothing to undo: only your last decision, within {undo_seconds()} seconds, "
                            "can be undone.")
    batch = recent[0].details.get("batch")
    rows = [row for row in recent if row.action == DECIDED and row.details.get("batch") == batch
            and row.at >= since]
    return [_undo_one(user, row) for row in reversed(rows)]


def _undo_one(user: User, row: AuditEntry) -> ActionResult:
    comment_id = row.comment_id or 0
    comment = db.session.get(Comment, comment_id)
    if comment is None or not user.can_access_site(comment.site_id):
        return ActionResult(comment_id, False, None, "The comment is gone; nothing to undo.")
    latest = db.session.scalar(sa.select(sa.func.max(AuditEntry.id)).where(AuditEntry.comment_id == comment_id))
    previous = row.details.get("previous") or {}
    if latest != row.id or previous.get("status") not in STATUSES:
        return ActionResult(comment_id, False, comment.status,
                       "Not undone: the comment changed after your decision.")
    now = utcnow()
    restored = previous["status"]
    decided_at = datetime.fromisoformat(previous["decided_at"]) if previous.get("decided_at") else None
    # Back in a list to decide, the comment stays with its moderator, who probably wants to redo it.
    claimed = restored in UNDECIDED
    matched = _update(
        comment_id, Comment.status == row.to_status, Comment.decided_by_user_id == user.id,
        status=restored, decided_by=previous.get("decided_by"),
        decided_by_user_id=previous.get("decided_by_user_id"), decided_at=decided_at,
        reason_code=previous.get("reason_code"), moderator_note=previous.get("moderator_note"),
        claimed_by_user_id=user.id if claimed else None,
        claimed_until=now + timedelta(seconds=claim_seconds()) if claimed else None, updated_at=now,
    )
    db.session.refresh(comment)
    if not matched:
        return ActionResult(comment_id, False, comment.status, "Not undone: the comment changed after your decision.")
    audit.record(UNDONE, actor_type="user", actor_id=user.email, site_id=comment.site_id, comment_id=comment_id,
                 from_status=row.to_status, to_status=restored,
                 details={"user_id": user.id, "undoes": row.id, "batch": row.details.get("batch")})
    # The publisher was told of the decision; it must hear that it no longer holds.
    enqueue_comment_moderated(comment.site, comment)
    return ActionResult(comment_id, True, restored, f"Undone: back to {restored}.")
