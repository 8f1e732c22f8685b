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
    """Deliver up to `limit` due callbacks, claiming one at a time; returns how many were claimed.

    One at a time, because a claim's lease starts when it is taken: a batch claimed together
    behind a slow receiver could outlive its lease and be sent by a second worker as well.
    """
    count = 0
    while count < limit and not should_stop():
        claims = claim_due(clock(), limit=1, lease=lease)
        if not claims:
            break
        [claim] = claims
        count += 1
        if should_stop():  # signalled while claiming: hand it back rather than leave it to the lease
            release(claim, clock())
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
    return count
