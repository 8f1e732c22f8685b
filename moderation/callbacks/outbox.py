"""The callback outbox: queue in the decision's transaction, claim with a lease, record outcomes.

A claim is a lease, not a lock held across the network: the claiming transaction moves
`next_attempt_at` to now + lease, bumps `attempts` and commits, then the POST happens outside
any transaction. `attempts` doubles as the fencing token: the outcome is written only if the
row still carries the attempt number of the claim, so a worker that was presumed dead (its
lease expired and another worker took the message) cannot overwrite the newer attempt's
result. A worker killed mid-delivery leaves the message `pending`; when the lease runs out
another worker sends it again with the same webhook-id. Nothing is ever deleted.

A decision made while the site has no callback URL is queued all the same and waits,
`pending`, until a URL is set (claim_due skips sites without one): a publisher that configures
its endpoint later receives every decision made before (`waiting_for_url` counts them).
"""
from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .. import audit
from ..comments.payload import payload
from ..database import is_postgres
from ..extensions import db
from ..models import Comment, OutboxMessage, Site
from .delivery import DeliveryResult
from .schedule import RETRY_DELAYS, parse_retry_after, retry_at

logger = logging.getLogger(__name__)


def enqueue_comment_moderated(site: Site, comment: Comment) -> OutboxMessage:
    """Queue a `comment.moderated` callback (the caller commits); kept until the site has a URL."""
    message = OutboxMessage(
        site_id=site.id, comment_id=comment.id, event_type="comment.moderated",
        webhook_id="msg_" + secrets.token_hex(16),
        payload={"type": "comment.moderated", "data": payload(comment)},
    )
    db.session.add(message)
    return message


@dataclass(frozen=True)
class Claim:
    """A message leased to this worker for one attempt; everything needed to send it."""

    message_id: int
    attempt: int  # the fencing token: the row's `attempts` right after the claim
    webhook_id: str
    payload: dict[str, Any]
    site_id: int
    url: str
    secrets: tuple[str, ...]  # current first, then one rotating out


def claim_due(now: datetime, *, limit: int, lease: timedelta) -> list[Claim]:
    """Lease up to `limit` due messages to this worker and commit the lease."""
    query = (
        sa.select(OutboxMessage, Site)
        .join(Site, Site.id == OutboxMessage.site_id)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
               # A disabled (410) or removed endpoint pauses its messages; they are kept.
               Site.callback_url.is_not(None), Site.callback_disabled_at.is_(None))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres():
        # Several workers: each takes rows no other transaction holds, without waiting.
        query = query.with_for_update(of=OutboxMessage, skip_locked=True)
    claims = []
    for message, site in db.session.execute(query).all():
        message.attempts = (message.attempts or 0) + 1
        message.next_attempt_at = now + lease
        message.last_attempt_at = now
        claims.append(Claim(message.id, message.attempts, message.webhook_id, message.payload,
                            site.id, site.callback_url, tuple(site.webhook_secrets(now))))
    db.session.commit()
    return claims


def _fenced(claim: Claim):
    return sa.update(OutboxMessage).where(
        OutboxMessage.id == claim.message_id, OutboxMessage.attempts == claim.attempt,
        OutboxMessage.status == "pending",
    )


def record_outcome(claim: Claim, outcome: DeliveryResult, now: datetime, *,
                   delays: Sequence[timedelta] = RETRY_DELAYS,
                   rand: Callable[[], float] = random.random) -> str:
    """Store what an attempt came to; returns the message's new state (or "lost-lease")."""
    values: dict[str, Any] = {"last_status_code": outcome.status_code, "last_error": outcome.error}
    if outcome.delivered:
        state = "delivered"
        values.update(status="delivered", delivered_at=now, last_error=None)
    elif outcome.gone:
        # The message is kept pending and due now: it goes out as soon as an admin
        # re-enables the endpoint, and the disabled time does not eat its retries.
        state = "paused"
        values.update(next_attempt_at=now,
                      last_error=(outcome.error or "HTTP 410") + "; endpoint disabled")
    else:
        when = retry_at(now, claim.attempt, parse_retry_after(outcome.retry_after, now),
                        delays=delays, rand=rand)
        if when is None:
            state = "failed"
            values.update(status="failed")
        else:
            state = "retry"
            values.update(next_attempt_at=when)
    if values.get("last_error"):
        values["last_error"] = values["last_error"][:1000]
    result = db.session.execute(_fenced(claim).values(**values))
    if result.rowcount == 0:
        db.session.rollback()
        logger.warning("callback %s: lease lost (another worker took attempt %d); outcome dropped",
                       claim.webhook_id, claim.attempt)
        return "lost-lease"
    if outcome.gone:
        disable_endpoint(claim, now)
    db.session.commit()
    return state


def disable_endpoint(claim: Claim, now: datetime) -> None:
    """Stop sending to a URL that answered 410, unless the site has moved to a new URL since."""
    reason = f"HTTP 410 Gone from {claim.url[:400]} for {claim.webhook_id}"
    changed = db.session.execute(
        sa.update(Site).where(Site.id == claim.site_id, Site.callback_url == claim.url,
                              Site.callback_disabled_at.is_(None))
        .values(callback_disabled_at=now, callback_disabled_reason=reason)
    ).rowcount
    if changed:
        audit.record("site.callback_disabled", actor_type="worker", site_id=claim.site_id,
                     reason=reason, details={"url": claim.url})


def release(claim: Claim, now: datetime) -> None:
    """Give back a claim not attempted (graceful shutdown): due now, the attempt not counted."""
    db.session.execute(_fenced(claim).values(next_attempt_at=now, attempts=claim.attempt - 1))
    db.session.commit()


def redeliver(*, ids: Sequence[int] = (), all_failed: bool = False, site_id: int | None = None,
              actor_type: str = "cli", actor_id: str | None = None, now: datetime) -> int:
    """Give failed messages a fresh retry schedule; returns how many."""
    query = sa.select(OutboxMessage).where(OutboxMessage.status == "failed")
    if ids:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    elif not all_failed:
        return 0
    if site_id is not None:
        query = query.where(OutboxMessage.site_id == site_id)
    count = 0
    for message in db.session.scalars(query):
        message.status = "pending"
        message.attempts = 0
        message.next_attempt_at = now
        audit.record("callback.redelivered", actor_type=actor_type, actor_id=actor_id,
                     site_id=message.site_id, comment_id=message.comment_id,
                     details={"webhook_id": message.webhook_id, "last_error": message.last_error})
        count += 1
    return count


def enable_endpoint(site: Site, *, actor_type: str, actor_id: str | None = None) -> None:
    """Resume callbacks to a site disabled by a 410 (its paused messages go out next)."""
    audit.record("site.callback_enabled", actor_type=actor_type, actor_id=actor_id, site_id=site.id,
                 reason=site.callback_disabled_reason)
    site.callback_disabled_at = None
    site.callback_disabled_reason = None


def messages(*, status: str | None = None, site_id: int | None = None,
             limit: int = 100) -> list[tuple[OutboxMessage, Site]]:
    """Outbox rows for admins, newest first."""
    query = sa.select(OutboxMessage, Site).join(Site, Site.id == OutboxMessage.site_id)
    if status:
        query = query.where(OutboxMessage.status == status)
    if site_id is not None:
        query = query.where(OutboxMessage.site_id == site_id)
    return [(m, s) for m, s in db.session.execute(query.order_by(OutboxMessage.id.desc()).limit(limit))]


def counts_by_status() -> dict[str, int]:
    """How many callbacks are in each state (the page's tabs)."""
    rows = db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status))
    return {status: count for status, count in rows}


def _waiting_for_url() -> sa.Select:
    """Pending callbacks of sites that have no callback URL: kept, and sent once one is set."""
    return (sa.select(sa.func.count()).select_from(OutboxMessage)
            .join(Site, Site.id == OutboxMessage.site_id)
            .where(OutboxMessage.status == "pending", Site.callback_url.is_(None)))


def waiting_for_url(site_id: int | None = None) -> int:
    """Callbacks kept for sites that have no callback URL yet (sent once one is set)."""
    query = _waiting_for_url()
    if site_id is not None:
        query = query.where(OutboxMessage.site_id == site_id)
    return db.session.scalar(query) or 0


def waiting_for_url_by_site() -> list[tuple[Site, int]]:
    """The same, per site (by slug), for the sites that have any."""
    query = _waiting_for_url().add_columns(Site).group_by(Site.id).order_by(Site.slug)
    return [(site, count) for count, site in db.session.execute(query)]


def disabled_sites() -> list[Site]:
    return list(db.session.scalars(
        sa.select(Site).where(Site.callback_disabled_at.is_not(None)).order_by(Site.slug)))
