"""A rescoring job: which comments to score again with the current model and policy, and how far it got."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

# A job that cannot go on (no model, a killed run) keeps its cursor and resumes: it never fails for good.
JOB_STATES = ("queued", "running", "done")


class RescoreJob(db.Model):
    __tablename__ = "rescore_jobs"
    __table_args__ = (
        sa.CheckConstraint(f"state IN {JOB_STATES!r}", name="state_known"),
        sa.Index("ix_rescore_jobs_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    # Comma-separated statuses to rescore, e.g. "pending,queued".
    statuses: Mapped[str] = mapped_column(sa.String(100))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(sa.String(16), default="queued")
    # Comments are walked in id order; the cursor lets a crashed run resume where it stopped.
    cursor: Mapped[int] = mapped_column(sa.Integer, default=0)
    total: Mapped[int] = mapped_column(sa.Integer, default=0)
    processed: Mapped[int] = mapped_column(sa.Integer, default=0)
    changed: Mapped[int] = mapped_column(sa.Integer, default=0)
    skipped: Mapped[int] = mapped_column(sa.Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(sa.String(1000))
    requested_by: Mapped[str | None] = mapped_column(sa.String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def status_list(self) -> list[str]:
        return [s for s in self.statuses.split(",") if s]

    def __repr__(self) -> str:
        return f"<RescoreJob {self.id} {self.state} {self.processed}/{self.total}>"
