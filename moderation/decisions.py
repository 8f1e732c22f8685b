"""Deciding stored revisions, the one way for the webhook, Coral, the worker and rescoring.

The trip is: assess the revisions' text with the site's current policy (no lock held: scoring
takes a while), take the comments' write lock, drop the ones edited or decided meanwhile,
then record each assessment. The rules hold for every caller:
- a human's decision is never overwritten, nor a newer revision's state;
- no score, no decision: an assessment that stays `pending` (scorer down, inference failed,
  scores not finite or missing a category the policy uses) leaves the comment `pending`,
  with the reason in `scoring_error` and one more attempt counted; a decided comment keeps
  its decision;
- with `notify`, a comment whose status changes gets a `comment.moderated` callback in the
  same transaction (the webhook and Coral answer the publisher directly instead).
The caller commits.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from . import assessments as stored_assessments, audit
from .callbacks.outbox import enqueue_comment_moderated
from .comments.harm import harm_of
from .comments.locks import lock_unchanged
from .comments.revisions import latest_revision
from .extensions import db
from .lexicon.store import lexicon
from .models import Comment, CommentRevision, Site, utcnow
from .policy import Policy
from .policy_versions import current_policy
from .rows import update_columns
from .scoring import LazyScorer, Lexicon
from .scoring.assess import Assessment, assess

logger = logging.getLogger(__name__)

# Runs the assessment (texts, policy, languages, the site's lexicon): plain `assess`, or Coral's
# time-bounded version of it, which answers None when it has no time left.
Assessor = Callable[[Sequence[str], Policy, Sequence[str | None], Lexicon], "list[Assessment] | None"]


@dataclass
class DecisionResult:
    decided: int = 0    # left `pending` for a decision
    changed: int = 0    # status changed (callbacks queued when notifying)
    unchanged: int = 0  # same status, or edited/decided by someone else meanwhile
    failed: list[int] = field(default_factory=list)  # not scored; ids left as they were


def _decided_by(assessment: Assessment) -> str:
    return "words" if assessment.scores is None else "model"


def apply_assessment(comment: Comment, revision: CommentRevision, assessment: Assessment,
                     policy_version: int | None, *, actor_type: str, source: str | None = None) -> str:
    """Write a decided assessment to the comment and its revision; returns the previous status.

    The one place a decided assessment is stored (record_not_scored is its counterpart for
    an undecided one); each is also kept as a row of its own (moderation.assessments), which
    later rescores and edits never overwrite.
    """
    previous = comment.status
    stored_assessments.record_assessment(comment, revision, assessment, policy_version, source=source or actor_type)
    decided = {"status": assessment.status, "scores": assessment.scores, "reasons": assessment.reasons,
               "matches": assessment.matches, "model": assessment.model, "policy_version": policy_version,
               "language": assessment.language}
    # Core UPDATEs, not the ORM's unit of work (every decision comes this way); the comment first,
    # then its revision, the order a flush writes them in.
    update_columns(comment, decided | {
        "harm": harm_of(assessment.reasons, assessment.scores), "scoring_error": None, "decided_at": utcnow(),
        "decided_by": _decided_by(assessment), "decided_by_user_id": None, "reason_code": None,
        "moderator_note": None,
    })
    update_columns(revision, decided)
    audit.write(
        "comment.assessed", actor_type=actor_type, site_id=comment.site_id, comment_id=comment.id,
        from_status=previous, to_status=assessment.status,
        reason=", ".join(r.get("code", "") for r in assessment.reasons) or None,
        details={"revision": revision.number, "model": assessment.model, "policy_version": policy_version},
    )
    return previous


def record_not_scored(comment: Comment, revision: CommentRevision, assessment: Assessment,
                      policy_version: int | None, *, actor_type: str, source: str) -> None:
    """Keep the comment as it is; remember why it was not scored (no audit row per retry).

    The first failed attempt on a revision is kept as an assessment row (with no scores) and
    one audit row (the card's history says "Not scored yet" and why); later retries only count
    attempts, so an outage does not write rows per worker poll.
    """
    error = (assessment.error or "not scored")[:500]
    if not comment.score_attempts:
        stored_assessments.record_assessment(comment, revision, assessment, policy_version, source=source)
        audit.write(
            "comment.assessed", actor_type=actor_type, site_id=comment.site_id, comment_id=comment.id,
            from_status=comment.status, to_status="pending", reason=error,
            details={"revision": revision.number, "model": assessment.model, "policy_version": policy_version},
        )
    comment.scoring_error = error
    comment.score_attempts = (comment.score_attempts or 0) + 1
    logger.warning("comment %s not decided, stays %s: %s", comment.id, comment.status, comment.scoring_error)


def _plain_assess(scorer: LazyScorer | None):
    def run(texts, policy, languages, site_lexicon):
        return assess(texts, policy, scorer, lexicon=site_lexicon, languages=languages)
    return run


def decide_revisions(site: Site, comments: Sequence[Comment], revisions: Sequence[CommentRevision],
                     scorer: LazyScorer | None, *, actor_type: str, notify: bool,
                     assessor: Assessor | None = None, source: str | None = None) -> DecisionResult:
    """Assess, lock, apply for one site's comments (each with the revision to decide).

    `assessor` replaces the plain assessment (Coral bounds it in time); returning None means
    "no answer in time": nothing is locked or written.
    """
    result = DecisionResult()
    if not comments:
        return result
    # Read before scoring: the webhook commits the revision first, so these reload lazily, and read
    # after scoring they would show a worker's decision made meanwhile as if nothing had changed.
    seen = [(revision.number, comment.status) for comment, revision in zip(comments, revisions)]
    version, policy = current_policy(site)
    run = assessor or _plain_assess(scorer)
    try:
        assessments = run([r.text for r in revisions], policy, [r.language for r in revisions], lexicon(site.id))
    except Exception:  # a bug in scoring must neither lose nor approve a comment
        logger.exception("assessment failed; comments %s stay as they are", [c.id for c in comments])
        assessments = [Assessment("pending", None, [], [], None, r.language, "assessment failed")
                       for r in revisions]
    if assessments is None:
        return result
    current = lock_unchanged(comments, revisions, seen)
    for comment, revision, assessment in zip(comments, revisions, assessments):
        if comment.id not in current:
            # Edited or decided by someone while it was being scored: that result is stale, and so
            # is what the session holds of the comment (read again, under the lock, when next used).
            db.session.expire(comment)
            result.unchanged += 1
            continue
        if assessment.status == "pending":
            record_not_scored(comment, revision, assessment, version, actor_type=actor_type,
                              source=source or actor_type)
            result.failed.append(comment.id)
            continue
        previous = apply_assessment(comment, revision, assessment, version, actor_type=actor_type, source=source)
        if previous == "pending":
            result.decided += 1
        if previous != comment.status:
            result.changed += 1
            if notify:
                enqueue_comment_moderated(site, comment)
        else:
            result.unchanged += 1
    return result


def decide_comments(comments: Sequence[Comment], scorer: LazyScorer, *, actor_type: str) -> DecisionResult:
    """The worker's and rescoring's entry: decide the comments' latest revisions, with callbacks."""
    total = DecisionResult()
    by_site: dict[int, list[Comment]] = defaultdict(list)
    for comment in comments:
        by_site[comment.site_id].append(comment)
    for site_id, group in by_site.items():
        site = db.session.get(Site, site_id)
        part = decide_revisions(site, group, [latest_revision(c) for c in group], scorer,
                                actor_type=actor_type, notify=True)
        total.decided += part.decided
        total.changed += part.changed
        total.unchanged += part.unchanged
        total.failed.extend(part.failed)
    return total
