"""Structured (JSON) request logs. They never carry headers, bodies, secrets or signatures."""
from __future__ import annotations

import json
import logging
import time

from flask import Flask, g, request

logger = logging.getLogger("moderation.requests")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure(level: str) -> None:
    root = logging.getLogger("moderation")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False


def init_app(app: Flask) -> None:
    configure(app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _start_timer() -> None:
        g.log_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        # Its own key: the request metrics time the request too (health/metrics.py).
        started = g.get("log_started")
        fields = {
            "method": request.method,
            # The path only: query strings may carry tokens.
            "path": request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "remote": request.remote_addr,
        }
        for key in ("site", "comment_id", "decision"):
            if key in g:
                fields[key] = g.get(key)
        logger.info("request", extra={"fields": fields})
        return response
