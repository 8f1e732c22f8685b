"""Moderation service for article comment sections; create_app() (in app.py) builds the Flask app."""
from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # Lazy, so that importing any module of the package does not import the whole app (and no
    # module of ours imports this one): `from moderation import create_app` and
    # `flask --app moderation` still find the factory.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
