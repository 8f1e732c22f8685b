"""Webhook quotas: a signed request counts against its site, a refused unsigned one against its address.

A site's quota is the publisher's: if requests nobody signed could use it up, anyone who knows
a site's slug could lock its publisher out. So only requests whose signature verified are
counted against the site, and requests refused before that point (wrong content type, unknown
site, bad signature, too large) are counted against the client address instead, whose own
budget never holds back a signed request. The counters live in the limiter's storage
(moderation/ratelimits.py), shared by every process of the machine or, with Redis, of all machines.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter
from werkzeug.exceptions import HTTPException

from ..extensions import limiter
from ..problems import Problem

logger = logging.getLogger(__name__)


class SiteOverQuota(Problem):
    """A signed request past its site's quota (a 429; Coral answers SYSTEM_WITHHELD instead)."""


class _Outage:
    """While the counters' shared store (Redis) fails, this process counts on its own.

    A publisher within its quota is never refused that way (no process sees more of its requests
    than all of them together), and one past it is, as on one process. The store is asked again
    after a pause that doubles up to MAX_PAUSE, so requests do not each wait on a store that is
    down (redis-py retries a refused connection for about a second). Flask-Limiter does the same
    for the sign-in and Perspective limits (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED, ratelimits.py),
    but offers no public way to share its fallback with these counters.
    """

    MAX_PAUSE = 30.0

    def __init__(self) -> None:
        self.until = 0.0
        self.pause = 0.0
        self.local: RateLimiter | None = None
        self.lock = threading.Lock()

    @classmethod
    def of(cls, app: Flask) -> "_Outage":
        """The app's own (an app binds its own store)."""
        outage = app.extensions.get("moderation.quota_outage")
        if outage is None:
            outage = app.extensions.setdefault("moderation.quota_outage", cls())
        return outage

    def strategy(self) -> RateLimiter | None:
        """The local strategy during a pause; None when the shared store is to be asked."""
        return self.local if self.local is not None and time.monotonic() < self.until else None

    def failed(self, shared: RateLimiter, setting: str) -> RateLimiter:
        with self.lock:
            first = self.pause == 0.0
            self.pause = min(self.MAX_PAUSE, self.pause * 2 or 1.0)
            self.until = time.monotonic() + self.pause
            if self.local is None:
                self.local = type(shared)(MemoryStorage())
        if first:
            logger.exception("rate limit storage unavailable: counting in this process (%s and the others) "
                             "until it answers again", setting)
        return self.local

    def answered(self) -> None:
        if self.pause:
            with self.lock:
                self.pause, self.until = 0.0, 0.0
            logger.warning("rate limit storage answers again: counting there")


def _charge(setting: str, *key: str, refusal: type[Problem] = Problem) -> None:
    """Count one request; past the configured limit, a 429 saying when to come back."""
    item = parse(str(current_app.config[setting]))
    key = (current_app.config.get("RATELIMIT_KEY_PREFIX") or "", *key)  # as Flask-Limiter's own keys
    shared = limiter.limiter  # Flask-Limiter's `limits` strategy on the configured storage
    outage = _Outage.of(current_app)
    strategy = outage.strategy() or shared
    try:
        allowed = strategy.hit(item, *key)
        if strategy is shared:
            outage.answered()
    except Exception:
        if strategy is not shared:
            raise  # the process's own counters: not a storage outage
        strategy = outage.failed(shared, setting)
        allowed = strategy.hit(item, *key)
    if allowed:
        return
    reset = strategy.get_window_stats(item, *key).reset_time
    raise refusal(429, f"rate limit exceeded ({item}); retry later", slug="rate-limited",
                  headers={"Retry-After": str(max(1, math.ceil(reset - time.time())))})


def charge_site(slug: str) -> None:
    """A request signed by the site: count it against the site's webhook quota."""
    _charge("RATELIMIT_WEBHOOK", "webhook-site", slug, refusal=SiteOverQuota)


@contextmanager
def unsigned_refusals() -> Iterator[None]:
    """Refusals raised inside count against the client address (a 429 once it has used its budget)."""
    try:
        yield
    except (Problem, HTTPException):
        _charge("RATELIMIT_WEBHOOK_UNSIGNED", "webhook-unsigned", get_remote_address() or "unknown")
        raise
