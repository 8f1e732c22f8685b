"""The Perspective-compatible API: a second face on the webhook's scoring (Google's v1alpha1 shapes)."""
from __future__ import annotations

from flask import Flask

METRICS_KEY = "moderation.metrics_collectors"


def init_app(app: Flask) -> None:
    """Register the API (no CSRF: keys, not cookies), the admin page, the card partial and metrics."""
    from .. import runtime
    from ..extensions import csrf
    from .admin import bp as admin_bp
    from .card_spans import reason_sentences
    from .metrics import ApiKeyCollector
    from .views import bp as api_bp

    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp)
    app.add_template_global(lambda comment: reason_sentences(comment, runtime.scorer()), "reason_sentences")
    app.extensions.setdefault(METRICS_KEY, []).append(ApiKeyCollector())
