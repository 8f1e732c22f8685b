"""Rescoring: score stored comments again with the current model and policy, as a resumable job.

`moderation rescore` creates a job and, by default, runs it in the same process with a
progress bar; with `--enqueue` it only creates it, and a worker runs it in batches between
callbacks. Either way the job walks comment ids in order and keeps a cursor, so a killed run
resumes where it stopped (an inline run's lease expires and a worker takes over).
Human decisions are never overwritten; see moderation.decisions for the rules.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..database import is_postgres
from ..extensions import db
from ..models import Comment, STATUSES
from ..scoring import LazyScorer
from ..models import RescoreJob
from ..decisions import decide_comments

logger = logging.getLogger(__name__)

DEFAULT_STATUSES = ("pending", "queued")


def not_human_decided():
    """Comments no human has decided (NULL-safe: pending comments have no decided_by)."""
    return sa.or_(Comment.decided_by.is_(None), Comment.decided_by != "human")


class RescoreError(ValueError):
    """A rescore request that cannot run, with a message for the user."""


def _matching(job: RescoreJob):
    query = sa.select(Comment.id).where(Comment.status.in_(job.status_list()), not_human_decided())
    if job.site_id is not None:
        query = query.where(Comment.site_id == job.site_id)
    if job.since is not None:
        query = query.where(Comment.received_at >= job.since)
    return query


def create_job(*, site_id: int | None, statuses: Sequence[str], since: datetime | None,
               requested_by: str | None) -> RescoreJob:
    """Add a queued job and count what it will cover (the caller commits)."""
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown or not statuses:
        raise RescoreError(f"--status: expected some of {', '.join(STATUSES)}, got {', '.join(statuses) or 'none'}")
    job = RescoreJob(site_id=site_id, statuses=",".join(statuses), since=since, state="queued",
                     cursor=0, total=0, processed=0, changed=0, skipped=0, requested_by=requested_by)
    job.total = db.session.scalar(sa.select(sa.func.count()).select_from(_matching(job).subquery())) or 0
    db.session.add(job)
    db.session.flush()
    return job


def claim_job(now: datetime, lease: timedelta, *, job_id: int | None = None) -> RescoreJob | None:
    """Lease the oldest unfinished job no live worker holds (commits the lease)."""
    query = (sa.select(RescoreJob)
             .where(RescoreJob.state.in_(("queued", "running")),
                    sa.or_(RescoreJob.claimed_until.is_(None), RescoreJob.claimed_until < now))
             .order_by(RescoreJob.id).limit(1))
    if job_id is not None:
        query = query.where(RescoreJob.id == job_id)
    if is_postgres():
        query = query.with_for_update(skip_locked=True)
    job = db.session.scalar(query)
    if job is None:
        db.session.rollback()
        return None
    job.state = "running"
    job.started_at = job.started_at or now
    job.claimed_until = now + lease
    db.session.commit()
    return job


def run_batch(job: RescoreJob, scorer: LazyScorer, *, batch_size: int, now: datetime,
              lease: timedelta, actor_type: str, keep_lease: bool = True) -> int:
    """Rescore the next batch of the job and advance its cursor; returns comments processed.

    An inline run keeps its lease between batches; a worker releases it after each batch, so
    the job moves on in whichever worker is free next, between their other work.
    """
    query = _matching(job).where(Comment.id > job.cursor).order_by(Comment.id).limit(batch_size)
    if is_postgres():
        # Wait for rows another transaction holds (never skip them: the cursor moves past).
        query = query.with_for_update()
    ids = list(db.session.scalars(query))
    if not ids:
        job.state = "done"
        job.finished_at = now
        job.claimed_until = None
        db.session.commit()
        return 0
    comments = list(db.session.scalars(sa.select(Comment).where(Comment.id.in_(ids)).order_by(Comment.id)))
    result = decide_comments(comments, scorer, actor_type=actor_type)
    job.cursor = ids[-1]
    job.processed += len(ids)
    job.changed += result.changed
    job.skipped += len(result.failed)
    job.claimed_until = now + lease if keep_lease else None
    db.session.commit()
    return len(ids)
