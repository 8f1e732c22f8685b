"""The worker's delivery step: claim due callbacks, POST each one, record what happened."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import requests

from .delivery import send
from .outbox import claim_due, record_outcome, release

logger = logging.getLogger(__name__)


def deliver_due(http: requests.Session, *, clock: Callable[[], datetime], limit: int, lease: timedelta,
                timeout: float, should_stop: Callable[[], bool] = lambda: False) -> int:
    """Deliver up to `limit` due callbacks; returns how many were claimed."""
    claims = claim_due(clock(), limit=limit, lease=lease)
    for index, claim in enumerate(claims):
        if should_stop():
            # Shutting down: hand the rest back now rather than leave them to the lease.
            for rest in claims[index:]:
                release(rest, clock())
            break
        # The signature's timestamp is the real time (receivers allow 5 minutes of skew);
        # `clock` only drives the schedule, so tests can move it.
        outcome = send(http, claim.url, claim.secrets, claim.webhook_id, claim.payload,
                       now=datetime.now(timezone.utc), timeout=timeout)
        state = record_outcome(claim, outcome, clock())
        if outcome.delivered:
            logger.info("callback %s delivered (attempt %d, HTTP %s)", claim.webhook_id, claim.attempt,
                        outcome.status_code)
        else:
            logger.warning("callback %s attempt %d failed: %s -> %s", claim.webhook_id, claim.attempt,
                           outcome.error, state)
    return len(claims)
