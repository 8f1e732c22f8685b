"""Writing audit rows: every state change of a comment, site, user or policy."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .extensions import db
from .models import AuditEntry, utcnow

_INSERT = sa.insert(AuditEntry.__table__)  # built once


def record(action: str, *, actor_type: str, actor_id: str | None = None, site_id: int | None = None,
           comment_id: int | None = None, from_status: str | None = None, to_status: str | None = None,
           reason: str | None = None, details: dict[str, Any] | None = None) -> AuditEntry:
    """Add an audit row to the current transaction (the caller commits)."""
    entry = AuditEntry(
        action=action, actor_type=actor_type, actor_id=actor_id, site_id=site_id,
        comment_id=comment_id, from_status=from_status, to_status=to_status,
        reason=reason, details=details or {},
    )
    db.session.add(entry)
    return entry


def write(action: str, *, actor_type: str, actor_id: str | None = None, site_id: int | None = None,
          comment_id: int | None = None, from_status: str | None = None, to_status: str | None = None,
          reason: str | None = None, details: dict[str, Any] | None = None) -> None:
    """record(), as one Core INSERT run at once: for the paths every comment takes.

    Runs in the current transaction like record(); the session flushes what it holds first,
    so rows recorded before this one keep the lower ids.
    """
    db.session.execute(_INSERT, {
        "at": utcnow(), "action": action, "actor_type": actor_type, "actor_id": actor_id, "site_id": site_id,
        "comment_id": comment_id, "from_status": from_status, "to_status": to_status, "reason": reason,
        "details": details or {},
    })
