"""What a proposed policy would do to a site's recent comments, from their stored scores and matches.

No model runs: each comment's stored assessment (the scores, language and lexicon matches of
its current revision) goes through the same pure `policy.decide` that scoring uses, once
under the current policy and once under the proposed one. Site word matches depend on the
word lists, so where a policy's lists differ from those the comment was matched under, its
text is matched again with the proposed lists (the same matcher, no model). That is why
the preview equals what the policy then does when the comments are rescored.

- A human's decision is never changed by a policy: those comments are counted apart.
- A comment without scores (the scorer was down) cannot be previewed: counted apart too.
- Rows are read in chunks with only the columns decide needs, newest first (an index on
  site_id, received_at), and texts only for comments that need their words matched again.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, PolicyVersion, Site, utcnow
from ..policy import BANNED, DEFAULT_POLICY, SUSPECT, Decision, Policy, decide
from ..scoring.lexicon import Lexicon, Match

# name -> (length, label); the page offers these.
WINDOWS: Mapping[str, tuple[timedelta, str]] = {
    "24h": (timedelta(hours=24), "last 24 hours"),
    "7d": (timedelta(days=7), "last 7 days"),
    "30d": (timedelta(days=30), "last 30 days"),
}
DEFAULT_WINDOW = "7d"
OUTCOMES = ("approved", "queued", "rejected", "pending")
CHUNK = 5000
SHOWN_CHANGES = 50
_SITE_WORDS = (BANNED, SUSPECT)

WordLists = tuple[tuple[str, ...], tuple[str, ...]]


class BadWindow(ValueError):
    """A window the page does not offer."""


@dataclass(frozen=True)
class ChangedComment:
    id: int
    before: Decision
    after: Decision
    external_id: str = ""
    author: str = ""
    excerpt: str = ""


@dataclass
class Preview:
    window: str
    since: datetime
    current_version: int | None
    current: Counter = field(default_factory=Counter)
    proposed: Counter = field(default_factory=Counter)
    human: Counter = field(default_factory=Counter)  # status of comments a moderator decided
    unscored: int = 0  # no stored scores: nothing to preview
    moves: Counter = field(default_factory=Counter)  # (before, after) -> comments
    changed: list[ChangedComment] = field(default_factory=list)  # the newest SHOWN_CHANGES
    rematched: int = 0  # comments whose text was matched again for changed word lists
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return WINDOWS[self.window][1]

    @property
    def days(self) -> float:
        return WINDOWS[self.window][0] / timedelta(days=1)

    @property
    def compared(self) -> int:
        return sum(self.current.values())

    @property
    def changed_total(self) -> int:
        return sum(self.moves.values())

    def per_day(self, counts: Counter, status: str = "queued") -> float:
        """Comments per day with that outcome: for queued, what moderators would see each day."""
        return counts[status] / self.days


def window_start(window: str, now: datetime | None = None) -> datetime:
    if window not in WINDOWS:
        raise BadWindow(f"window must be one of {', '.join(WINDOWS)}; got {window!r}")
    return (now or utcnow()) - WINDOWS[window][0]


def _words(policy: Policy) -> WordLists:
    return policy.banned_words, policy.suspect_words


def word_lists_by_version(site_id: int) -> dict[int | None, WordLists]:
    """The word lists each of the site's policy versions held (None: before any version, the default)."""
    lists: dict[int | None, WordLists] = {None: _words(DEFAULT_POLICY)}
    for number, document in db.session.execute(
            sa.select(PolicyVersion.version, PolicyVersion.document).where(PolicyVersion.site_id == site_id)):
        lists[number] = (tuple((document or {}).get("banned_words") or ()),
                         tuple((document or {}).get("suspect_words") or ()))
    return lists


@lru_cache(maxsize=64)
def _site_lexicon(words: tuple[str, ...], category: str) -> Lexicon:
    return Lexicon.from_words(words, category)


def site_word_matches(text: str, lists: WordLists) -> list[Match]:
    """A text's banned and suspect word matches under these lists (as scoring finds them)."""
    found: list[Match] = []
    for words, category in zip(lists, _SITE_WORDS):
        if words:
            found.extend(_site_lexicon(words, category).find(text))
    return found


def _match(stored: Mapping[str, Any]) -> Match:
    return Match(str(stored.get("term", "")), str(stored.get("category", "")), int(stored.get("start", 0)),
                 int(stored.get("end", 0)), int(stored.get("severity", 3)), str(stored.get("language", "any")))


def _ordered(matches: Iterable[Match]) -> list[Match]:
    return sorted(matches, key=lambda m: (m.start, m.end, m.category))  # the order scoring reports them in


@dataclass
class _Row:
    id: int
    scores: dict[str, float]
    language: str | None
    lexicon: list[Match]  # the deployment lexicon's matches, as stored
    site: list[Match]  # the site word matches, as stored
    lists: WordLists | None  # the word lists those were found with (None: unknown)


class _Tally:
    """Decides each comment under both policies and counts (pure once the rows are read)."""

    def __init__(self, preview: Preview, current: Policy, proposed: Policy,
                 covered: frozenset[str] | None) -> None:
        self.preview = preview
        self.policies = (current, proposed)
        self.covered = covered
        self.changed_ids: list[tuple[int, Decision, Decision]] = []

    def needs_text(self, row: _Row) -> bool:
        return any(row.lists != _words(policy) for policy in self.policies)

    def add(self, row: _Row, text: str | None = None) -> None:
        outcomes = []
        for policy in self.policies:
            lists = _words(policy)
            site = row.site if row.lists == lists else site_word_matches(text or "", lists)
            outcomes.append(decide(row.scores, _ordered([*row.lexicon, *site]), policy,
                                   language=row.language, covered_languages=self.covered))
        before, after = outcomes
        self.preview.current[before.status] += 1
        self.preview.proposed[after.status] += 1
        if before.status != after.status:
            self.preview.moves[(before.status, after.status)] += 1
            if len(self.changed_ids) < SHOWN_CHANGES:
                self.changed_ids.append((row.id, before, after))


def preview_policy(site: Site, proposed: Policy, window: str, *, current: Policy,
                   current_version: int | None, covered_languages: frozenset[str] | None,
                   now: datetime | None = None) -> Preview:
    """Counts under the current and the proposed policy for the site's comments received in the window."""
    started = time.perf_counter()
    since = window_start(window, now)
    preview = Preview(window=window, since=since, current_version=current_version)
    tally = _Tally(preview, current, proposed, covered_languages)
    lists_by_version = word_lists_by_version(site.id)
    query = (sa.select(Comment.id, Comment.decided_by, Comment.status, Comment.scores, Comment.matches,
                       Comment.language, Comment.policy_version)
             .where(Comment.site_id == site.id, Comment.received_at >= since)
             .order_by(Comment.received_at.desc(), Comment.id.desc()))
    rematch: list[_Row] = []
    for row in db.session.execute(query.execution_options(yield_per=CHUNK)):
        if row.decided_by == "human":
            preview.human[row.status] += 1
            continue
        if not isinstance(row.scores, dict):
            preview.unscored += 1
            continue
        stored = [_match(m) for m in row.matches or () if isinstance(m, Mapping)]
        item = _Row(row.id, row.scores, row.language, [m for m in stored if m.category not in _SITE_WORDS],
                    [m for m in stored if m.category in _SITE_WORDS], lists_by_version.get(row.policy_version))
        if tally.needs_text(item):
            rematch.append(item)
        else:
            tally.add(item)
    preview.rematched = len(rematch)
    for chunk in _chunks(rematch, CHUNK):
        texts = dict(db.session.execute(sa.select(Comment.id, Comment.text)
                                        .where(Comment.id.in_([r.id for r in chunk]))).all())
        for item in chunk:
            tally.add(item, texts.get(item.id, ""))
    preview.changed = _describe(tally.changed_ids)
    preview.seconds = time.perf_counter() - started
    return preview


def _chunks(items: Sequence[_Row], size: int) -> Iterable[Sequence[_Row]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _describe(changed: list[tuple[int, Decision, Decision]]) -> list[ChangedComment]:
    """The shown changes with what the page needs to name each comment (one query)."""
    if not changed:
        return []
    rows = {row.id: row for row in db.session.execute(
        sa.select(Comment.id, Comment.external_id, Comment.author_name, Comment.author_id, Comment.text)
        .where(Comment.id.in_([item[0] for item in changed])))}
    described = []
    for comment_id, before, after in changed:
        row = rows.get(comment_id)
        text = " ".join((row.text or "").split()) if row else ""
        described.append(ChangedComment(
            comment_id, before, after, external_id=row.external_id if row else "",
            author=(row.author_name or row.author_id or "Anonymous") if row else "",
            excerpt=text[:160] + ("…" if len(text) > 160 else "")))
    return described
