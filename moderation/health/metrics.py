"""/metrics: database gauges read at scrape time, request and scorer metrics; for operators only."""
from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Response, current_app, g, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .. import runtime
from ..callbacks.outbox import waiting_for_url
from ..extensions import db
from ..models import Comment, OutboxMessage
from ..policy import INVALID_SCORES
from ..problems import Problem
from ..security import is_operator
from . import process_metrics


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
        # Decisions kept for sites with no callback URL yet: they go out once a URL is set.
        yield GaugeMetricFamily("moderation_callbacks_waiting_for_url",
                                "Callbacks kept until their site has a callback URL", value=waiting_for_url())
        # Comments held because the model's numbers could not be trusted (NaN, missing classes).
        invalid = db.session.scalar(sa.select(sa.func.count()).select_from(Comment)
                                    .where(Comment.scoring_error.startswith(INVALID_SCORES)))
        yield GaugeMetricFamily("moderation_comments_invalid_scores",
                                "Comments left undecided because their scores were not finite or incomplete",
                                value=invalid or 0)
        loaded, _ = runtime.scorer().status()
        yield GaugeMetricFamily("moderation_scorer_loaded", "1 when this process has its model loaded",
                                value=1 if loaded else 0)


def metrics():
    # Counts of comments, key use and scorer state are operational details, like /readyz's reasons.
    if not is_operator():
        raise Problem(403, "/metrics is readable from the addresses in MODERATION_OPERATOR_ADDRESSES "
                           "or with 'Authorization: Bearer <MODERATION_OPERATOR_TOKEN>'",
                      slug="operators-only", title="Operators only")
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    for collector in process_metrics.collectors():
        registry.register(collector)
    for collector in current_app.extensions.get("moderation.metrics_collectors", ()):
        registry.register(collector)  # collectors other packages add (e.g. Perspective API key use)
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")


def start_timer() -> None:
    g.request_started = time.perf_counter()


def record_request(response: Response) -> Response:
    started = g.pop("request_started", None)
    if started is not None:
        # The URL rule, not the path: one series per route, whatever ids the paths carry.
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        process_metrics.observe_request(endpoint, request.method, response.status_code,
                                        time.perf_counter() - started)
    return response
