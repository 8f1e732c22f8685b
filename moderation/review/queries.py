"""Read side of the review UI: the queue with keyset pagination, counts, and a card's context.

Every query is limited to the user's sites (access.site_filter). Pages are keyset pages
(WHERE key after the last row seen, ORDER BY key, LIMIT n): each page costs the same at a
million comments as at a hundred, served by the indexes named below.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..bounds import parse_id
from ..extensions import db
from ..models import AuditEntry, Comment, PolicyVersion, Site, User
from ..policy import BANNED, CATEGORIES, SUSPECT
from .access import site_filter

LISTS = ("queued", "pending", "approved", "rejected")
# Reasons a moderator can filter on: the model's categories, then word lists and policy rules.
REASON_FILTERS = (*CATEGORIES, BANNED, SUSPECT, "ethnic_slur", "unsupported_language", "premoderation")
PAGE_SIZE = 25
# Counting stops here: an exact count of a million approved comments is slow and useless.
COUNT_CAP = 10_000
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")
# Decided-list markers are microseconds since 1970, up to the end of year 9999 (datetime's limit).
_MICROS_MAX = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()) * 1_000_000
_MICROS_DIGITS = len(str(_MICROS_MAX)) + 1


class BadFilter(ValueError):
    """A query parameter that makes no sense, with the message to show."""


@dataclass(frozen=True)
class QueueFilter:
    status: str = "queued"
    site: Site | None = None
    article: str | None = None
    reason: str | None = None
    language: str | None = None

    def args(self, **changes: Any) -> dict[str, str]:
        """Query-string arguments for this filter (for links), with changes applied."""
        values = {"status": self.status, "site": self.site.slug if self.site else None,
                  "article": self.article, "reason": self.reason, "language": self.language}
        values.update(changes)
        return {k: v for k, v in values.items() if v}


def clean_article(value: str | None) -> str | None:
    """An article id as the webhook accepts it ('/', spaces, any script), so every card's link works."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 255 or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise BadFilter(f"article must be an article id (up to 255 characters, no control characters); "
                        f"got {value[:40]!r}")
    return value


def clean_token(value: str | None, name: str) -> str | None:
    """An optional filter value: an id-like token, or a clear error."""
    value = (value or "").strip()
    if not value:
        return None
    if not _TOKEN_RE.match(value):
        raise BadFilter(f"{name} must be letters, digits and . _ : - (up to 255); got {value[:40]!r}")
    return value


# --- keyset cursors -------------------------------------------------------------------------
# queued: harm desc, id asc (most harmful first, then oldest)  ix_comments_queue
# pending: id asc (oldest first)                                ix_comments_site_status_id
# approved/rejected: decided_at desc, id desc (newest first)    ix_comments_decided


@dataclass(frozen=True)
class Cursor:
    key: float | int | None
    id: int

    def encode(self) -> str:
        return f"{self.key!r}~{self.id}" if self.key is not None else str(self.id)


def cursor_after(comment: Comment, status: str) -> Cursor:
    if status == "queued":
        return Cursor(float(comment.harm or 0.0), comment.id)
    if status in ("approved", "rejected"):
        decided = comment.decided_at or datetime.fromtimestamp(0, timezone.utc)
        return Cursor(_micros(decided), comment.id)
    return Cursor(None, comment.id)


def decode_cursor(raw: str | None, status: str) -> Cursor | None:
    """A page marker from the URL, or BadFilter: every part must fit the column it is compared with."""
    if not raw:
        return None
    try:
        if status == "queued":
            key, _, ident = raw.partition("~")
            harm = float(key)
            if not math.isfinite(harm):  # nan and inf order nowhere in the harm index
                raise ValueError(key)
            return Cursor(harm, parse_id(ident))
        if status in ("approved", "rejected"):
            key, _, ident = raw.partition("~")
            micros = int(key) if len(key) <= _MICROS_DIGITS else _MICROS_MAX + 1
            if not 0 <= micros <= _MICROS_MAX:  # a time a datetime (and the column) can hold
                raise ValueError(key)
            return Cursor(micros, parse_id(ident))
        return Cursor(None, parse_id(raw))
    except ValueError:
        raise BadFilter(f"the page marker {raw[:40]!r} is not valid; go back to the first page") from None


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, timezone.utc)


def _ordering(status: str) -> Sequence[ColumnElement[Any]]:
    if status == "queued":
        return (Comment.harm.desc(), Comment.id.asc())
    if status in ("approved", "rejected"):
        return (Comment.decided_at.desc(), Comment.id.desc())
    return (Comment.id.asc(),)


def _after(cursor: Cursor, status: str) -> ColumnElement[bool]:
    # The leading `key <= cursor` is implied by the OR, but it is what lets the database start
    # the index scan at the cursor: with the OR alone it walks every row before it.
    if status == "queued":
        return sa.and_(Comment.harm <= cursor.key,
                       sa.or_(Comment.harm < cursor.key,
                              sa.and_(Comment.harm == cursor.key, Comment.id > cursor.id)))
    if status in ("approved", "rejected"):
        moment = _from_micros(int(cursor.key or 0))
        return sa.and_(Comment.decided_at <= moment,
                       sa.or_(Comment.decided_at < moment,
                              sa.and_(Comment.decided_at == moment, Comment.id < cursor.id)))
    return Comment.id > cursor.id


# --- filters --------------------------------------------------------------------------------


def _has_reason(code: str) -> ColumnElement[bool]:
    """True where the comment's reasons (a JSON list) contain one with this code."""
    if db.engine.dialect.name == "postgresql":
        element = sa.func.json_array_elements(Comment.reasons).table_valued("value").render_derived()
        code_of = element.c.value.op("->>")("code")
    else:
        element = sa.func.json_each(Comment.reasons).table_valued("value")
        code_of = sa.func.json_extract(element.c.value, "$.code")
    return sa.exists(sa.select(1).select_from(element).where(code_of == code))


def _conditions(user: User, queue: QueueFilter, *, with_status: bool = True) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [site_filter(user)]
    if with_status:
        conditions.append(Comment.status == queue.status)
    if queue.site is not None:
        conditions.append(Comment.site_id == queue.site.id)
    if queue.article:
        conditions.append(Comment.article_id == queue.article)
    if queue.language:
        conditions.append(Comment.language == queue.language)
    if queue.reason:
        conditions.append(_has_reason(queue.reason))
    return conditions


@dataclass
class Page:
    comments: list[Comment]
    next_cursor: str | None
    users: dict[int, User] = field(default_factory=dict)  # claimers and deciders, by id


def queue_page(user: User, queue: QueueFilter, after: Cursor | None, *, size: int = PAGE_SIZE) -> Page:
    """One page of a list, in that list's order."""
    query = sa.select(Comment).where(*_conditions(user, queue))
    if after is not None:
        query = query.where(_after(after, queue.status))
    rows = list(db.session.scalars(query.order_by(*_ordering(queue.status)).limit(size + 1)))
    next_cursor = cursor_after(rows[size - 1], queue.status).encode() if len(rows) > size else None
    comments = rows[:size]
    return Page(comments, next_cursor, users_by_id(
        {c.claimed_by_user_id for c in comments} | {c.decided_by_user_id for c in comments}))


def users_by_id(ids: set[int | None]) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}


@dataclass(frozen=True)
class Count:
    value: int
    capped: bool

    def __str__(self) -> str:
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"


def count_capped(conditions: Sequence[ColumnElement[bool]], cap: int = COUNT_CAP) -> Count:
    limited = sa.select(Comment.id).where(*conditions).limit(cap + 1).subquery()
    value = db.session.scalar(sa.select(sa.func.count()).select_from(limited)) or 0
    return Count(min(value, cap), value > cap)


def list_counts(user: User, queue: QueueFilter) -> dict[str, Count]:
    """How many comments each list holds under the current filters (status aside)."""
    base = _conditions(user, queue, with_status=False)
    return {status: count_capped([*base, Comment.status == status]) for status in LISTS}


def queued_per_site(user: User, sites: Sequence[Site]) -> dict[int, Count]:
    """The queued count of each site the user sees (for the site filter)."""
    return {site.id: count_capped([site_filter(user), Comment.site_id == site.id, Comment.status == "queued"])
            for site in sites}


# --- the comment card -----------------------------------------------------------------------


@dataclass
class CardContext:
    parent: Comment | None
    author_comments: list[Comment]
    author_counts: dict[str, Count]
    history: list[AuditEntry]
    thresholds: dict[str, dict[str, float | None]]
    users: dict[int, User]


AUTHOR_HISTORY = 10


def card_context(comment: Comment) -> CardContext:
    parent = None
    if comment.parent_external_id:
        parent = db.session.scalar(sa.select(Comment).where(
            Comment.site_id == comment.site_id, Comment.external_id == comment.parent_external_id))
    author_comments: list[Comment] = []
    author_counts: dict[str, Count] = {}
    if comment.author_id:
        same_author = (Comment.site_id == comment.site_id, Comment.author_id == comment.author_id)
        author_comments = list(db.session.scalars(
            sa.select(Comment).where(*same_author, Comment.id != comment.id)
            .order_by(Comment.id.desc()).limit(AUTHOR_HISTORY)))
        author_counts = {s: count_capped([*same_author, Comment.id != comment.id, Comment.status == s], 1000)
                         for s in LISTS}
    history = list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.comment_id == comment.id).order_by(AuditEntry.id)))
    return CardContext(
        parent=parent, author_comments=author_comments, author_counts=author_counts, history=history,
        thresholds=policy_thresholds(comment),
        users=users_by_id({comment.claimed_by_user_id, comment.decided_by_user_id}
                          | {c.decided_by_user_id for c in author_comments}),
    )


def policy_thresholds(comment: Comment) -> dict[str, dict[str, float | None]]:
    """The thresholds of the policy version that decided the comment (empty if unknown)."""
    if comment.policy_version is None:
        return {}
    version = db.session.scalar(sa.select(PolicyVersion).where(
        PolicyVersion.site_id == comment.site_id, PolicyVersion.version == comment.policy_version))
    if version is None:
        return {}
    thresholds = version.document.get("thresholds") or {}
    return {name: dict(value) for name, value in thresholds.items() if isinstance(value, dict)}


def queue_filter(*, status: str | None, site: Site | None, article: str | None,
                 reason: str | None, language: str | None) -> QueueFilter:
    status = status or "queued"
    if status not in LISTS:
        raise BadFilter(f"list must be one of {', '.join(LISTS)}; got {status[:40]!r}")
    return QueueFilter(status=status, site=site, article=clean_article(article),
                       reason=clean_token(reason, "reason"), language=clean_token(language, "language"))

