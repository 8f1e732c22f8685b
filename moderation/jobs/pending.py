"""The worker's scoring step: decide `pending` comments as soon as a model is available.

A webhook commits a new revision as `pending` and only then scores it, in the same request.
A worker that claimed such a comment at once would run the model a second time for it (only
one decision counts: decisions.py discards the later, stale one). So the worker leaves a
pending comment to the request that is scoring it until one of these says nobody is:
- a failed attempt on its current revision (`score_attempts` > 0: the webhook, Coral or a
  worker tried and could not score; a new revision resets it), or
- its current revision was received at least `grace` ago (`Comment.received_at`, set for
  every new revision): the request died, gave up (Coral's timeout) or lost its database
  connection after storing. The grace is longer than a webhook takes to score, so nothing is
  left waiting for long and nothing is lost.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..database import is_postgres
from ..extensions import db
from ..models import Comment, utcnow
from ..scoring import LazyScorer, ScorerUnavailable
from ..decisions import decide_comments

logger = logging.getLogger(__name__)

# After a comment fails to score while the model works, wait this long (doubling per failure,
# up to the cap) before trying it again, so one poisonous text cannot occupy the worker.
FAILED_COMMENT_BACKOFF = (30.0, 3600.0)


class PendingScorer:
    """Claims pending comments in batches and decides them; remembers its own failures."""

    def __init__(self, scorer: LazyScorer, *, batch_size: int, grace: timedelta,
                 clock: Callable[[], datetime] = utcnow,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.scorer = scorer
        self.batch_size = batch_size
        self.grace = grace
        self.clock = clock  # compared with the received_at the web processes stored
        self.monotonic = monotonic
        self._retry_at: dict[int, float] = {}  # comment id -> monotonic time it may be tried again
        self._failures: dict[int, int] = {}
        self._unavailable_reason: str | None = None

    def step(self) -> int:
        """Decide one batch; returns how many comments were claimed (0: nothing to do now)."""
        now = self.monotonic()
        self._retry_at = {cid: t for cid, t in self._retry_at.items() if t > now}
        waiting = sa.select(Comment.id).where(Comment.status == "pending", self.nobody_scoring())
        if self._retry_at:
            waiting = waiting.where(Comment.id.not_in(list(self._retry_at)))
        if db.session.scalar(waiting.limit(1)) is None:
            db.session.rollback()
            return 0
        if not self._model_ready():
            db.session.rollback()
            return 0
        claim = waiting.order_by(Comment.id).limit(self.batch_size)
        if is_postgres():
            # Rows stay locked while they are scored; other workers skip to the next ones.
            claim = claim.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(claim))
        if not ids:
            db.session.rollback()
            return 0
        comments = list(db.session.scalars(
            sa.select(Comment).where(Comment.id.in_(ids), Comment.status == "pending").order_by(Comment.id)))
        result = decide_comments(comments, self.scorer, actor_type="worker")
        db.session.commit()
        for comment_id in result.failed:
            failures = self._failures.get(comment_id, 0) + 1
            self._failures[comment_id] = failures
            first, cap = FAILED_COMMENT_BACKOFF
            self._retry_at[comment_id] = now + min(cap, first * 2 ** (failures - 1))
        if result.decided:
            logger.info("decided %d pending comment(s)", result.decided)
        if result.failed:
            logger.warning("scoring failed for %d comment(s); they stay pending", len(result.failed))
        return len(ids)

    def nobody_scoring(self) -> sa.ColumnElement[bool]:
        """Pending comments no request is scoring any more: a failed attempt, or past the grace.

        `received_at` was written by the web process's clock and is compared with this worker's:
        the machines' clocks must agree to well within the grace (NTP does).
        """
        return sa.or_(Comment.score_attempts > 0, Comment.received_at <= self.clock() - self.grace)

    def _model_ready(self) -> bool:
        """Load the model if needed; log why not only when the reason changes."""
        try:
            self.scorer.ensure_loaded()
        except ScorerUnavailable as error:
            reason = str(error)
            if reason != self._unavailable_reason:
                logger.warning("scorer unavailable, pending comments wait: %s", reason)
                self._unavailable_reason = reason
            return False
        if self._unavailable_reason is not None:
            logger.info("scorer available again; deciding pending comments")
            self._unavailable_reason = None
        return True

    @property
    def waiting_for_model(self) -> bool:
        return self._unavailable_reason is not None
