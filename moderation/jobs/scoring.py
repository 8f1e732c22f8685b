"""Scoring stored comments again: pending ones the webhook could not score, and rescoring runs.

Both paths share one rule set:
- a human's decision is never overwritten (those comments are not even selected);
- a failed scoring never moves a comment: a pending one stays pending (with the error and one
  more attempt counted), a decided one keeps its decision;
- a comment whose status changes gets a `comment.moderated` callback in the same transaction;
  a comment leaving `pending` always does, since its publisher was answered "pending".
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..assessments import record_assessment
from ..callbacks.outbox import enqueue_comment_moderated
from ..comments import apply_assessment, lock_unchanged
from ..extensions import db
from ..ingest.operations import latest_revision
from ..lexicon.store import lexicon
from ..models import Comment, Site
from ..policy_versions import current_policy
from ..scoring import LazyScorer
from ..scoring.assess import assess

logger = logging.getLogger(__name__)


def not_human_decided():
    """Comments no human has decided (NULL-safe: pending comments have no decided_by)."""
    return sa.or_(Comment.decided_by.is_(None), Comment.decided_by != "human")


@dataclass
class BatchResult:
    decided: int = 0   # left pending for a decision
    changed: int = 0   # status changed (callbacks queued)
    unchanged: int = 0
    failed: list[int] = field(default_factory=list)  # scoring failed; ids left as they were


def rescore_comments(comments: Sequence[Comment], scorer: LazyScorer, *, actor_type: str) -> BatchResult:
    """Assess the comments' latest revisions with their site's current policy and apply (no commit)."""
    result = BatchResult()
    by_site: dict[int, list[Comment]] = defaultdict(list)
    for comment in comments:
        by_site[comment.site_id].append(comment)
    for site_id, group in by_site.items():
        site = db.session.get(Site, site_id)
        version, policy = current_policy(site)
        revisions = [latest_revision(comment) for comment in group]
        assessments = assess([r.text for r in revisions], policy, scorer, lexicon=lexicon(site_id),
                             languages=[r.language for r in revisions])
        current = lock_unchanged(group, revisions)
        for comment, revision, assessment in zip(group, revisions, assessments):
            if comment.id not in current:
                # Edited or decided by someone while it was being scored: that result is stale.
                result.unchanged += 1
                continue
            if assessment.status == "pending":
                # No score: fail closed, and do not write an audit row per retry.
                comment.scoring_error = (assessment.error or "not scored")[:500]
                comment.score_attempts = (comment.score_attempts or 0) + 1
                result.failed.append(comment.id)
                continue
            if comment.decided_by == "human":  # re-checked under the row lock
                continue
            previous = apply_assessment(comment, revision, assessment, version, actor_type=actor_type)
            record_assessment(comment, revision, assessment, version, source=actor_type)
            if previous == "pending":
                result.decided += 1
            if previous != comment.status:
                result.changed += 1
                enqueue_comment_moderated(site, comment)
            else:
                result.unchanged += 1
    return result
