"""Per-process scoring runtime: the lazily loaded scorer and the packaged lexicon."""
from __future__ import annotations

from flask import Flask, current_app

from .scoring import LazyScorer, ScorerSettings

EXTENSION_KEY = "moderation.scorer"


def init_app(app: Flask) -> None:
    # Built here but not loaded: the weights load on first use, never in a gunicorn master.
    app.extensions[EXTENSION_KEY] = LazyScorer(ScorerSettings.from_mapping(app.config))


def scorer() -> LazyScorer:
    return current_app.extensions[EXTENSION_KEY]
