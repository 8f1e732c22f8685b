"""What the policy page shows beside the form, read from stored data only (no model runs).

Human labels, score distributions and the queue's history for a window, the agreement and
charts built from them, and rescore jobs started from the page.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import audit
from ..assessments import latest_for_comments
from ..extensions import db
from ..models import AuditEntry, Comment, RescoreJob, Site, User, utcnow
from ..policy import CATEGORIES, Policy, PolicyError
from ..review.present import label
from ..scoring.settings import ScorerSettings
from .agreement import Agreement, Label, agreement, flag_level
from .charts import Chart, histogram, queue_charts
from . import windows
from .queue_history import QueueEvent, queue_series
from .windows import DEFAULT_WINDOW, WINDOWS

MAX_SCORES = 200_000  # comments read for the histograms; beyond that the newest are enough to see the shape
RESCORE_SCOPES = {"undecided": ("pending", "queued"), "all": ("pending", "queued", "approved", "rejected")}


class InsightsError(ValueError):
    """A request the page cannot answer as asked; `field` names the parameter."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(message)


def window_start(window: str, now: datetime) -> datetime:
    try:
        return windows.window_start(window, now)
    except windows.BadWindow as error:
        raise InsightsError("window", str(error)) from None


def proposed_policy(current: Policy, args: Mapping[str, str]) -> tuple[Policy, dict[str, str]]:
    """The current policy with thresholds from `thresholds.<category>.review|reject` parameters.

    Returns the current policy and the field errors when the values do not make a valid policy.
    """
    document = current.to_dict()
    errors: dict[str, str] = {}
    for category in CATEGORIES:
        for level in ("review", "reject"):
            key = f"thresholds.{category}.{level}"
            if key not in args:
                continue
            raw = (args.get(key) or "").strip()
            try:
                value = None if raw in ("", "none") else float(raw)
            except ValueError:
                errors[key] = f"expected a number from 0 to 1, got {raw!r}"
                continue
            document["thresholds"].setdefault(category, {"review": None, "reject": None})[level] = value
    if errors:
        return current, errors
    try:
        return Policy.from_dict(document), {}
    except PolicyError as error:
        return current, dict(error.errors)


def covered_languages() -> frozenset[str]:
    return ScorerSettings.from_mapping(current_app.config).languages


def moderator_labels(site_id: int, since: datetime) -> list[Label]:
    """Comments a human approved or rejected in the window, with the scores the humans saw."""
    comments = list(db.session.execute(
        sa.select(Comment.id, Comment.status, Comment.scores, Comment.matches, Comment.language)
        .where(Comment.site_id == site_id, Comment.decided_by == "human",
               Comment.status.in_(("approved", "rejected")), Comment.decided_at >= since)))
    stored = latest_for_comments(row.id for row in comments)
    labels = []
    for row in comments:
        assessment = stored.get(row.id)
        if assessment is not None:  # the latest stored assessment: what the humans were shown
            scores, matches, language = assessment.scores, assessment.matches, assessment.language
            machine = assessment.status
        else:  # decided before assessments were kept: the comment's own columns
            scores, matches, language, machine = row.scores, row.matches, row.language, None
        if scores:
            labels.append(Label(dict(scores), harmful=row.status == "rejected", matches=tuple(matches or ()),
                                language=language, machine_status=machine))
    return labels


def score_samples(site_id: int, since: datetime) -> dict[str, list[float]]:
    """Each category's scores of the comments received in the window (their latest assessment)."""
    samples: dict[str, list[float]] = {name: [] for name in CATEGORIES}
    rows = db.session.scalars(
        sa.select(Comment.scores).where(Comment.site_id == site_id, Comment.received_at >= since,
                                        Comment.scores.is_not(None))
        .order_by(Comment.id.desc()).limit(MAX_SCORES))
    for scores in rows:
        for name, value in (scores or {}).items():
            if name in samples and isinstance(value, (int, float)):
                samples[name].append(float(value))
    return samples


def _transition():
    entered = sa.and_(AuditEntry.to_status == "queued", AuditEntry.from_status.is_distinct_from("queued"))
    left = sa.and_(AuditEntry.from_status == "queued", AuditEntry.to_status.is_distinct_from("queued"))
    return entered, left


def queue_events(site_id: int, since: datetime) -> tuple[dict[int, datetime], list[QueueEvent]]:
    """The queue at `since` (comment -> when it entered) and every entry and exit after, from the audit log."""
    entered, left = _transition()
    moving = sa.and_(AuditEntry.site_id == site_id, AuditEntry.comment_id.is_not(None), sa.or_(entered, left))
    latest_before = (sa.select(sa.func.max(AuditEntry.id)).where(moving, AuditEntry.at < since)
                     .group_by(AuditEntry.comment_id))
    initial = {row.comment_id: row.at for row in db.session.execute(
        sa.select(AuditEntry.comment_id, AuditEntry.at).where(AuditEntry.id.in_(latest_before),
                                                              AuditEntry.to_status == "queued"))}
    events = [QueueEvent(row.at, row.comment_id, row.to_status == "queued") for row in db.session.execute(
        sa.select(AuditEntry.at, AuditEntry.comment_id, AuditEntry.to_status)
        .where(moving, AuditEntry.at >= since).order_by(AuditEntry.id))]
    return initial, events


def bucket_edges(since: datetime, now: datetime, hourly: bool) -> list[datetime]:
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    edges, edge = [], since + step
    while edge < now:
        edges.append(edge)
        edge += step
    edges.append(now)
    return edges


@dataclass
class Insights:
    window: str
    since: datetime
    agreement: Agreement
    histograms: list[Chart]
    queue_size: Chart
    queue_age: Chart
    suggestions: dict[str, str] = field(default_factory=dict)  # category -> query string for the form


def build(site: Site, current: Policy, proposed: Policy, *, window: str = DEFAULT_WINDOW,
          extra_labels: Iterable[Label] = (), now: datetime | None = None) -> Insights:
    """Agreement and charts for a site over a window; `extra_labels` adds labels from elsewhere
    (the Perspective-compatible API's suggestscore)."""
    from urllib.parse import urlencode

    now = now or utcnow()
    since = window_start(window, now)
    labels = [*moderator_labels(site.id, since), *suggestscore_labels(site.id, since), *extra_labels]
    result = agreement(labels, current, proposed, covered_languages=covered_languages())
    samples = score_samples(site.id, since)
    histograms = [histogram(name, samples[name], flag_level(current.thresholds.get(name)),
                            flag_level(proposed.thresholds.get(name)), title=label(name)) for name in CATEGORIES]
    hourly = WINDOWS[window].hourly
    initial, events = queue_events(site.id, since)
    size, age = queue_charts(queue_series(initial, events, bucket_edges(since, now, hourly)), hourly=hourly)
    suggestions = {c.category: urlencode({**c.suggestion.form_values, "window": window})
                   for c in result.categories if c.suggestion is not None}
    return Insights(window, since, result, histograms, size, age, suggestions)


def suggestscore_labels(site_id: int, since: datetime) -> list[Label]:
    """Human labels sent through the Perspective-compatible API's suggestscore, one category each."""
    from ..perspective.labels import human_labels

    # Each label is about one Detoxify class (stored under that name), with the model's score then.
    return [Label({pair.attribute: pair.model_score}, harmful=pair.label >= 0.5, source="suggestscore",
                  category=pair.attribute)
            for pair in human_labels(site_id, since=since) if pair.model_score is not None]


# -- rescoring from the page -------------------------------------------------------------------

def start_rescore(site: Site, user: User, *, window: str, scope: str) -> RescoreJob:
    """Queue a rescore of the site's comments in the window for the workers (the caller commits)."""
    from ..jobs.rescore import create_job

    if scope not in RESCORE_SCOPES:
        raise InsightsError("scope", f"expected one of {', '.join(RESCORE_SCOPES)}, got {scope!r}")
    since = window_start(window, utcnow())
    job = create_job(site_id=site.id, statuses=RESCORE_SCOPES[scope], since=since, requested_by=user.email)
    audit.record("rescore.requested", actor_type="user", actor_id=user.email, site_id=site.id,
                 details={"job": job.id, "window": window, "statuses": list(RESCORE_SCOPES[scope]),
                          "total": job.total})
    return job


def recent_jobs(site_id: int, limit: int = 5) -> list[RescoreJob]:
    return list(db.session.scalars(sa.select(RescoreJob).where(RescoreJob.site_id == site_id)
                                   .order_by(RescoreJob.id.desc()).limit(limit)))


def job_for(site_id: int, job_id: int) -> RescoreJob | None:
    job = db.session.get(RescoreJob, job_id)
    return job if job is not None and job.site_id == site_id else None


def job_status(job: RescoreJob) -> dict:
    percent = 100 if job.state == "done" else (int(100 * job.processed / job.total) if job.total else 0)
    return {"id": job.id, "state": job.state, "total": job.total, "processed": job.processed,
            "changed": job.changed, "skipped": job.skipped, "percent": min(percent, 100), "error": job.error,
            "created_at": job.created_at.isoformat() if job.created_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "requested_by": job.requested_by}


# -- what the partial templates expect ------------------------------------------------------------

def page_context(site: Site, user: User, current: Policy, proposed: Policy, *, window: str = DEFAULT_WINDOW,
                 lexicon_form: dict | None = None, extra_labels: Iterable[Label] = ()) -> dict:
    """Every variable templates/settings/_agreement, _charts, _rescore and _lexicon.html read."""
    from ..lexicon.store import CATEGORIES as TERM_CATEGORIES
    from ..lexicon.store import active_terms

    terms = active_terms(site.id)
    return {
        "site": site,
        "window": window,
        "windows": list(WINDOWS),
        "insights": build(site, current, proposed, window=window, extra_labels=extra_labels),
        "policy_page_url": f"/sites/{site.slug}/policy",
        "rescore_jobs": recent_jobs(site.id),
        "rescore_scopes": list(RESCORE_SCOPES),
        "site_terms": [t for t in terms if t.site_id is not None],
        "global_terms": [t for t in terms if t.site_id is None],
        "term_categories": TERM_CATEGORIES,
        "can_edit_global": user.role == "admin",
        "lexicon_form": lexicon_form or {"values": {"category": "ethnic_slur", "language": "en", "severity": "2",
                                                   "scope": "site", "terms": ""}, "errors": {}},
    }
