"""The contract's representation of a comment: webhook answers, GET, callbacks."""
from __future__ import annotations

from typing import Any

from ..models import Comment


def payload(comment: Comment) -> dict[str, Any]:
    """The contract's representation of a comment (webhook answers, GET, callbacks)."""
    return {
        "id": comment.id,
        "external_id": comment.external_id,
        "status": comment.status,
        "scores": comment.scores or {},
        "reasons": comment.reasons or [],
        "matches": comment.matches or [],
        "html": comment.html,
        # The plain text that was scored: match spans (start, end) are offsets into it.
        "text": comment.text,
        "model": comment.model,
        "policy_version": comment.policy_version,
        "language": comment.language,
        "revision": comment.revision_count,
        "decided_by": comment.decided_by,
        "reason_code": comment.reason_code,
        "decided_at": comment.decided_at.isoformat() if comment.decided_at else None,
    }
