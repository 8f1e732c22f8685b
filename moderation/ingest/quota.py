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
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse
from werkzeug.exceptions import HTTPException

from ..extensions import limiter
from ..problems import Problem

logger = logging.getLogger(__name__)


class SiteOverQuota(Problem):
    """A signed request past its site's quota (a 429; Coral answers SYSTEM_WITHHELD instead)."""


def _charge(setting: str, *key: str, refusal: type[Problem] = Problem) -> None:
    """Count one request; past the configured limit, a 429 saying when to come back."""
    item = parse(str(current_app.config[setting]))
    key = (current_app.config.get("RATELIMIT_KEY_PREFIX") or "", *key)  # as Flask-Limiter's own keys
    strategy = limiter.limiter  # Flask-Limiter's `limits` strategy on the configured storage
    try:
        if strategy.hit(item, *key):
            return
    except Exception:
        # The counters' store (Redis) is down: count nothing rather than refuse every publisher.
        logger.exception("rate limit storage unavailable; %s not counted", setting)
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
