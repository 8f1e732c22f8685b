"""Database wiring: SQLite pragmas for safe concurrent use; PostgreSQL needs nothing extra."""
from __future__ import annotations

from functools import partial

from flask import Flask
from sqlalchemy import event

from .extensions import db

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def _sqlite_pragmas(dbapi_connection, connection_record, *, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the web process read while the worker writes; busy_timeout waits instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # In WAL mode NORMAL syncs the log at checkpoints, not at every commit: a commit is still
    # atomic and durable across a crash of the process (it is in the OS's cache), and the
    # database stays consistent; only a power or OS failure can lose the last commits. FULL
    # made every webhook, and every request queued behind its write lock, wait on an fsync.
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.close()


def init_app(app: Flask) -> None:
    db.init_app(app)
    synchronous = str(app.config.get("SQLITE_SYNCHRONOUS") or "NORMAL").upper()
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"MODERATION_SQLITE_SYNCHRONOUS: expected one of {', '.join(SYNCHRONOUS_MODES)}, "
                         f"got {synchronous!r}")
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", partial(_sqlite_pragmas, synchronous=synchronous))


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"
