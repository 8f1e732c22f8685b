"""A comment's state in Coral's terms: APPROVED, REJECTED with a code Coral knows, or SYSTEM_WITHHELD."""
from __future__ import annotations

from typing import Any

from ..models import Comment

HELD = {"status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]}
# Reason codes -> Coral's REJECTION_REASON_CODE (only codes every recent Coral release knows).
_ABUSIVE = {"identity_attack", "threat", "insult", "severe_toxicity", "ethnic_slur", "religious_slur", "slur"}


def held() -> dict[str, Any]:
    """Held for review, never published unscored (a fresh copy: callers may add to it)."""
    return {"status": HELD["status"], "actions": [dict(a) for a in HELD["actions"]]}


def coral_answer(comment: Comment) -> dict[str, Any]:
    """The comment's status in Coral's terms."""
    if comment.status == "approved":
        return {"status": "APPROVED"}
    if comment.status == "rejected":
        return {"status": "REJECTED", "moderationAction": {"rejectionReason": {"code": rejection_code(comment)}}}
    return held()  # queued for a human, or pending a score: held, never published unscored


def rejection_code(comment: Comment) -> str:
    codes = {reason.get("code") for reason in comment.reasons or []}
    if "banned_word" in codes:
        return "BANNED_WORD"
    if codes & _ABUSIVE:
        return "ABUSIVE"
    return "OFFENSIVE"
