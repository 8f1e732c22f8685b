"""Per-process scoring runtime: the lazily loaded scorer and the packaged lexicon."""
from __future__ import annotations

from flask import Flask, current_app

from .health.process_metrics import observe_batch, observe_confirmed, observe_lent
from .scoring import LazyScorer, ScorerSettings

EXTENSION_KEY = "moderation.scorer"


def init_app(app: Flask) -> None:
    # Built here but not loaded: the weights load on first use, never in a gunicorn master.
    # Concurrent requests of this process share forward passes; each batch is counted for /metrics.
    app.extensions[EXTENSION_KEY] = LazyScorer(ScorerSettings.from_mapping(app.config), observer=observe_batch,
                                                 on_confirmed=observe_confirmed, on_lent=observe_lent)


def scorer() -> LazyScorer:
    return current_app.extensions[EXTENSION_KEY]
