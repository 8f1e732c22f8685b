"""When to retry a failed callback: the Standard Webhooks schedule, jitter, and Retry-After."""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

# The delay after the 1st, 2nd, ... failed attempt (the first attempt is immediate). The
# Standard Webhooks / Svix schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), with 10 h
# steps continued until about three days have passed: 12 attempts over 2 days 19.6 hours.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=5), *(timedelta(hours=10),) * 6,
)
JITTER = 0.2  # +-20%: receivers that come back up are not hit by every sender at once
MAX_RETRY_AFTER = timedelta(days=1)  # a receiver cannot park a message for longer than this


def next_delay(attempts: int, *, delays: Sequence[timedelta] = RETRY_DELAYS,
               rand: Callable[[], float] = random.random) -> timedelta | None:
    """The jittered wait after `attempts` failed attempts, or None when it is time to give up."""
    if attempts < 1 or attempts > len(delays):
        return None
    base = delays[attempts - 1]
    return base * (1 + JITTER * (2 * rand() - 1))


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as a wait: delay-seconds or an HTTP date (RFC 9110 10.2.3); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT by definition
            when = when.replace(tzinfo=timezone.utc)
        wait = when - now
    return max(timedelta(0), min(wait, MAX_RETRY_AFTER))


def retry_at(now: datetime, attempts: int, retry_after: timedelta | None, *,
             delays: Sequence[timedelta] = RETRY_DELAYS,
             rand: Callable[[], float] = random.random) -> datetime | None:
    """When to try again after a failed attempt, or None to give up.

    Retry-After is honoured as a lower bound: never sooner than the receiver asked, and never
    sooner than the schedule, so a receiver answering `Retry-After: 0` cannot make the worker
    spend its attempts in a few seconds.
    """
    delay = next_delay(attempts, delays=delays, rand=rand)
    if delay is None:
        return None
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + delay
