"""Where rate limits count: one SQLite file per machine by default, Redis across machines.

Flask-Limiter's default `memory://` keeps a counter per process, so `moderation serve` with
two gunicorn workers allowed twice each configured limit. The `limits` library offers storages
that need a server (Redis, Memcached, MongoDB) and none shared by processes without one, so
this module adds the smallest such storage: a fixed-window counter table in a SQLite file in
the instance folder (stdlib sqlite3, WAL, one atomic upsert per hit). Machines that share one
database set MODERATION_RATELIMIT_STORAGE_URI=redis://host:6379 instead, so the limits hold
across all of them; any other `limits` storage URI works as well.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import unquote

from flask import Flask
from limits.storage import Storage

_SCHEMA = """CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL)"""
# Expired windows restart at `amount`; live ones add to it. One statement, so it is atomic
# across processes (SQLite serialises writers; busy_timeout makes the others wait their turn).
_INCR = """INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :expires)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN counters.expires_at <= :now THEN excluded.count ELSE counters.count + excluded.count END,
    expires_at = CASE WHEN counters.expires_at <= :now THEN excluded.expires_at ELSE counters.expires_at END
RETURNING count"""
_SWEEP_EVERY = 1000  # hits between deletions of expired windows


class SQLiteStorage(Storage):
    """A `limits` storage in one SQLite file: `sqlite:///absolute/path/ratelimits.sqlite3`."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        path = unquote((uri or "").partition("://")[2])
        if not path.startswith("/") or path == "/":
            raise ValueError(f"rate limit storage {uri!r}: expected sqlite:///absolute/path/file.sqlite3")
        self.path = path
        self._local = threading.local()
        self._hits = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and per process: a connection must not cross a fork.
        connection = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # a lost counter after a power cut is harmless
            connection.execute(_SCHEMA)
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        connection = self._connection()
        [count] = connection.execute(_INCR, {"key": key, "amount": amount, "expires": now + expiry,
                                             "now": now}).fetchone()
        self._hits += 1
        if self._hits % _SWEEP_EVERY == 0:
            connection.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        return int(count)

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._connection().execute(
            "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))


def default_storage_uri(instance_path: str) -> str:
    return "sqlite://" + str(Path(instance_path).resolve() / "ratelimits.sqlite3")


def init_app(app: Flask) -> None:
    """Bind the limiter to the configured storage, a per-machine SQLite file when none is set."""
    from .extensions import limiter

    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = default_storage_uri(app.instance_path)
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://", "redis+")):
        # redis-py waits for the OS to give up on a host that does not answer (minutes): the
        # counters are a few hundred microseconds away or not worth waiting for.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5})
    # The store down: sign-in and the Perspective API count in the process rather than fail
    # (the webhook's own counters do the same, ingest/quota.py).
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)
    # One Limiter serves every app of the process, and init_app binds this app's store without
    # forgetting that an earlier app's was found down (only the tests build several apps).
    limiter._storage_dead = False
