"""Operations endpoints: liveness, readiness and Prometheus metrics."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from . import runtime, security
from .extensions import db
from .models import Comment, OutboxMessage
from .scoring import ScorerUnavailable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready when the database answers and the scorer is loaded (503 with the reasons otherwise)."""
    problems: dict[str, str] = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as error:  # any driver error means "not ready"
        db.session.rollback()
        problems["database"] = f"unreachable: {type(error).__name__}"
    scorer = runtime.scorer()
    try:
        # Loading here (in a worker, never the master) lets a fresh node become ready before
        # its first comment; a failed load is remembered, so probes do not hammer the download.
        scorer.ensure_loaded()
    except ScorerUnavailable:
        pass
    loaded, reason = scorer.status()
    if not loaded:
        problems["scorer"] = reason or "not loaded yet"
    body = {
        "status": "ok" if not problems else "unavailable",
        "database": "ok" if "database" not in problems else problems["database"],
        "scorer": {"model": scorer.name, "loaded": loaded, "reason": None if loaded else problems["scorer"]},
    }
    if not security.is_operator():
        # Reasons name the driver, the model files and their paths: for operators only.
        body = {"status": body["status"]}
    response = jsonify(body)
    response.status_code = 200 if not problems else 503
    return response


class DatabaseCollector:
    """Gauges read from the database at scrape time, so every web process reports the same."""

    def collect(self):
        comments = GaugeMetricFamily("moderation_comments", "Comments by status", labels=["status"])
        for status, count in db.session.execute(
            sa.select(Comment.status, sa.func.count()).group_by(Comment.status)
        ):
            comments.add_metric([status], count)
        yield comments
        outbox = GaugeMetricFamily("moderation_callbacks", "Callbacks by delivery status", labels=["status"])
        for status, count in db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ):
            outbox.add_metric([status], count)
        yield outbox
        loaded, _ = runtime.scorer().status()
        yield GaugeMetricFamily("moderation_scorer_loaded", "1 when this process has its model loaded",
                                value=1 if loaded else 0)


@bp.get("/metrics")
def metrics():
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    for collector in current_app.extensions.get("moderation.metrics_collectors", ()):
        registry.register(collector)  # collectors other packages add (e.g. Perspective API key use)
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
