"""The database out of reach (down, restarting, read-only, disk full): 503 with Retry-After, never a 500."""
from __future__ import annotations

import logging

from flask import Flask, Response, request
from sqlalchemy import exc

from .extensions import db
from .problems import problem_response

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying; a restarting PostgreSQL is usually back within it.
RETRY_AFTER_SECONDS = 5

# The driver's OperationalError covers a refused or dropped connection (PostgreSQL) and a locked,
# read-only or full database file (SQLite); the others are the pool's and the dialect's words for
# a connection that went away. Errors in what was sent (IntegrityError, DataError) are not here.
UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError)


def database_unavailable(error: Exception) -> Response:
    """Roll back what the request began (nothing of it was committed) and ask the client to retry."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the session is discarded at teardown anyway
        logger.debug("rollback after a database error failed", exc_info=True)
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:300]
    logger.warning("database unavailable on %s %s: %s", request.method, request.path, reason)
    detail = "the database is unavailable; retry later (what was stored before it went is kept)"
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        return problem_response(503, detail, slug="database-unavailable", headers=headers)
    return Response(f"Service unavailable: {detail}.\n", status=503, mimetype="text/plain", headers=headers)


def init_app(app: Flask) -> None:
    for error_class in UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)
