"""The append-only audit log: who changed what, when and why."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_comment", "comment_id", "id"),
        sa.Index("ix_audit_log_site", "site_id", "id"),
        sa.Index("ix_audit_log_actor", "actor_id", "id"),  # "my last decision" for undo
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "user", "publisher", "model", "worker" or "cli"
    actor_type: Mapped[str] = mapped_column(sa.String(16))
    # No foreign keys: the log outlives users, sites and comments.
    actor_id: Mapped[str | None] = mapped_column(sa.String(320))
    site_id: Mapped[int | None] = mapped_column(sa.Integer)
    comment_id: Mapped[int | None] = mapped_column(sa.Integer)
    action: Mapped[str] = mapped_column(sa.String(64))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_rewrite(mapper, connection, target) -> None:
    raise RuntimeError("the audit log is append-only")
