"""Operations endpoints: liveness, readiness and Prometheus metrics, each in its own module."""
from __future__ import annotations

from flask import Blueprint


def blueprint() -> Blueprint:
    """The operations routes, on a blueprint made for one app."""
    from .liveness import healthz
    from .metrics import metrics, record_request, start_timer
    from .readiness import readyz

    bp = Blueprint("health", __name__)
    bp.add_url_rule("/healthz", view_func=healthz)
    bp.add_url_rule("/readyz", view_func=readyz)
    bp.add_url_rule("/metrics", view_func=metrics)
    # Every request of the app is timed for /metrics (latency per endpoint and status).
    bp.before_app_request(start_timer)
    bp.after_app_request(record_request)
    return bp
