"""What a proposed policy would do to a site's recent comments, from their stored scores and matches.

No model runs: each comment's stored assessment (the scores, language and matches of its
current revision) goes through the same pure `policy.decide` that scoring uses, once under
the current policy and once under the proposed one, so the preview equals what the policy
then does when the comments are rescored.

Two paths, one rule:

- **Grouped** (most comments: no word matches, scored under word lists equal to both
  policies'): `decide` compares each score with the policies' thresholds and nothing else,
  so the database sorts every comment into bands between the thresholds of both policies
  and counts them (one GROUP BY; PostgreSQL parses each comment's scores once through
  json_to_record). `decide` then runs once per band combination, on a score at the band's
  lower edge: the same side of every threshold as each comment in it, so the same status.
- **Per comment** (comments with word matches, or scored under other word lists): rows are
  read in chunks with only the needed columns, their site words matched again where a
  policy's lists differ from those they were matched with, and decided one by one.

A human's decision is never changed by a policy, and a comment without scores (the scorer
was down) cannot be previewed: both are counted apart.
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
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db
from ..models import Comment, PolicyVersion, Site, utcnow
from ..policy import BANNED, DEFAULT_POLICY, SUSPECT, Decision, Policy, decide
from ..scoring.lexicon import Lexicon, Match
from .bands import Bands, group_key, score_columns, scored
from .windows import WINDOWS, window_start

CHUNK = 5000
SHOWN_CHANGES = 50
MAX_EXAMPLE_GROUPS = 500  # band combinations searched for example comments
# Matching texts again runs the lexicon matcher in Python (about 0.3-0.8 ms a comment): past
# this many, a page request would hold a web worker for too long, so the page asks for a
# shorter window instead of answering with partial counts.
MAX_REMATCH = 20_000
_SITE_WORDS = (BANNED, SUSPECT)

WordLists = tuple[tuple[str, ...], tuple[str, ...]]


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
    grouped: int = 0  # comments decided by band (see the module's docstring)
    rematched: int = 0  # comments whose text was matched again for changed word lists
    too_many_to_rematch: int = 0  # set (and nothing counted) when over MAX_REMATCH
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return WINDOWS[self.window].label

    @property
    def days(self) -> float:
        return WINDOWS[self.window].length / timedelta(days=1)

    @property
    def compared(self) -> int:
        return sum(self.current.values())

    @property
    def changed_total(self) -> int:
        return sum(self.moves.values())

    def per_day(self, counts: Counter, status: str = "queued") -> float:
        """Comments per day with that outcome: for queued, what moderators would see each day."""
        return counts[status] / self.days


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


def site_word_matches(text: str, lists: WordLists, *, stored: Sequence[Match] = (),
                      stored_lists: WordLists | None = None) -> list[Match]:
    """A text's banned and suspect word matches under these lists (as scoring finds them).

    Each list is its own matcher, so a list equal to the one the stored matches came from
    keeps those matches and only a changed list is matched again (the slow part).
    """
    found: list[Match] = []
    for index, (words, category) in enumerate(zip(lists, _SITE_WORDS)):
        if stored_lists is not None and stored_lists[index] == words:
            found.extend(m for m in stored if m.category == category)
        elif words:
            found.extend(_site_lexicon(words, category).find(text))
    return found


def _match(stored: Mapping[str, Any]) -> Match:
    return Match(str(stored.get("term", "")), str(stored.get("category", "")), int(stored.get("start", 0)),
                 int(stored.get("end", 0)), int(stored.get("severity", 3)), str(stored.get("language", "any")))


def _ordered(matches: Iterable[Match]) -> list[Match]:
    return sorted(matches, key=lambda m: (m.start, m.end, m.category))  # the order scoring reports them in


# --- the preview --------------------------------------------------------------------------------


@dataclass
class _Row:
    id: int
    received_at: datetime
    scores: dict[str, float]
    language: str | None
    lexicon: list[Match]  # the deployment lexicon's matches, as stored
    site: list[Match]  # the site word matches, as stored
    lists: WordLists | None  # the word lists those were found with (None: unknown)


class _Comparison:
    def __init__(self, preview: Preview, current: Policy, proposed: Policy,
                 covered: frozenset[str] | None) -> None:
        self.preview = preview
        self.policies = (current, proposed)
        self.covered = covered
        # (received_at, id, before, after) of changed comments, for the examples
        self.examples: list[tuple[datetime, int, Decision, Decision]] = []

    def decide_both(self, scores: Mapping[str, float], matches_for, language: str | None) -> tuple[Decision, Decision]:
        # Stored scores were checked when they were made; the classes they hold are the model's.
        categories = tuple(scores) if scores else None
        before, after = (decide(scores, matches_for(policy), policy, language=language,
                                covered_languages=self.covered, categories=categories) for policy in self.policies)
        return before, after

    def count(self, before: Decision, after: Decision, comments: int) -> None:
        self.preview.current[before.status] += comments
        self.preview.proposed[after.status] += comments
        if before.status != after.status:
            self.preview.moves[(before.status, after.status)] += comments

    def add_row(self, row: _Row, text: str | None = None) -> None:
        def matches_for(policy: Policy) -> list[Match]:
            lists = _words(policy)
            site = row.site if row.lists == lists else site_word_matches(text or "", lists, stored=row.site,
                                                                        stored_lists=row.lists)
            return _ordered([*row.lexicon, *site])

        before, after = self.decide_both(row.scores, matches_for, row.language)
        self.count(before, after, 1)
        if before.status != after.status and len(self.examples) < SHOWN_CHANGES:
            self.examples.append((row.received_at, row.id, before, after))

    def needs_text(self, row: _Row) -> bool:
        return any(row.lists != _words(policy) for policy in self.policies)


def preview_policy(site: Site, proposed: Policy, window: str, *, current: Policy,
                   current_version: int | None, covered_languages: frozenset[str] | None,
                   now: datetime | None = None) -> Preview:
    """Counts under the current and the proposed policy for the site's comments received in the window."""
    started = time.perf_counter()
    since = window_start(window, now or utcnow())
    preview = Preview(window=window, since=since, current_version=current_version)
    comparison = _Comparison(preview, current, proposed, covered_languages)
    in_window = sa.and_(Comment.site_id == site.id, Comment.received_at >= since)
    human = sa.func.coalesce(Comment.decided_by, "") == "human"

    # Grouped through a subquery: PostgreSQL only groups by an expression it can see is the same.
    kinds = sa.select(Comment.status, human.label("human"), scored().label("scored")).where(in_window).subquery()
    for status, is_human, has_scores, comments in db.session.execute(
            sa.select(kinds.c.status, kinds.c.human, kinds.c.scored, sa.func.count())
            .group_by(kinds.c.status, kinds.c.human, kinds.c.scored)):
        if is_human:
            preview.human[status] += comments
        elif not has_scores:
            preview.unscored += comments

    # Versions whose word lists equal both policies': their comments' word matches hold for both.
    same_lists = [number for number, lists in word_lists_by_version(site.id).items()
                  if all(lists == _words(policy) for policy in (current, proposed))]
    version_ok = sa.or_(Comment.policy_version.in_([n for n in same_lists if n is not None]),
                        Comment.policy_version.is_(None) if None in same_lists else sa.false())
    grouped = sa.case((sa.and_(sa.func.json_array_length(Comment.matches) == 0, version_ok), 1), else_=0)
    candidates = sa.and_(in_window, sa.not_(human), scored())

    bands = Bands(comparison.policies)
    changed_groups = _compare_grouped(comparison, bands, sa.and_(candidates, grouped == 1))
    _compare_rows(comparison, site, sa.and_(candidates, grouped == 0))
    if preview.too_many_to_rematch:
        preview.current, preview.proposed, preview.moves = Counter(), Counter(), Counter()
        preview.seconds = time.perf_counter() - started
        return preview
    examples = comparison.examples + _grouped_examples(comparison, bands, sa.and_(candidates, grouped == 1),
                                                       changed_groups)
    examples.sort(key=lambda item: (item[0], item[1]), reverse=True)
    preview.changed = _describe(examples[:SHOWN_CHANGES])
    preview.seconds = time.perf_counter() - started
    return preview


def _compare_grouped(comparison: _Comparison, bands: Bands, where: ColumnElement[bool]) -> list[tuple]:
    """Count the grouped comments by band combination; returns the combinations whose outcome changes."""
    source, columns = score_columns(bands)
    key = [value.label(f"k{i}") for i, value in enumerate(group_key(bands, comparison.covered, columns))]
    keyed = sa.select(*key, Comment.language).select_from(source).where(where).subquery()
    grouping = [keyed.c[f"k{i}"] for i in range(len(key))]
    query = sa.select(*grouping, sa.func.min(keyed.c.language), sa.func.count()).group_by(*grouping)
    changed = []
    for row in db.session.execute(query):
        unsupported, band_values, language, comments = row[0], row[1:-2], row[-2], row[-1]
        before, after = comparison.decide_both(bands.representative(band_values), lambda policy: [],
                                               language if unsupported else None)
        comparison.count(before, after, comments)
        comparison.preview.grouped += comments
        if before.status != after.status:
            changed.append(tuple(row[:-2]))
    return changed


def _grouped_examples(comparison: _Comparison, bands: Bands, where: ColumnElement[bool],
                      groups: list[tuple]) -> list[tuple[datetime, int, Decision, Decision]]:
    """The newest comments of the changed band combinations, decided on their own scores for their reasons."""
    if not groups:
        return []
    source, columns = score_columns(bands)
    key = group_key(bands, comparison.covered, columns)
    query = (sa.select(Comment.id, Comment.received_at, Comment.scores, Comment.language).select_from(source)
             .where(where, sa.tuple_(*key).in_(groups[:MAX_EXAMPLE_GROUPS]))
             .order_by(Comment.received_at.desc(), Comment.id.desc()).limit(SHOWN_CHANGES))
    examples = []
    for row in db.session.execute(query):
        before, after = comparison.decide_both(row.scores, lambda policy: [], row.language)
        examples.append((row.received_at, row.id, before, after))
    return examples


def _compare_rows(comparison: _Comparison, site: Site, where: ColumnElement[bool]) -> None:
    """Decide the remaining comments one by one, newest first, matching texts again where needed."""
    lists_by_version = word_lists_by_version(site.id)
    query = (sa.select(Comment.id, Comment.received_at, Comment.scores, Comment.matches, Comment.language,
                       Comment.policy_version)
             .where(where).order_by(Comment.received_at.desc(), Comment.id.desc()))
    rematch: list[_Row] = []
    for row in db.session.execute(query.execution_options(yield_per=CHUNK)):
        stored = [_match(m) for m in row.matches or () if isinstance(m, Mapping)]
        item = _Row(row.id, row.received_at, row.scores, row.language,
                    [m for m in stored if m.category not in _SITE_WORDS],
                    [m for m in stored if m.category in _SITE_WORDS], lists_by_version.get(row.policy_version))
        if comparison.needs_text(item):
            rematch.append(item)
        else:
            comparison.add_row(item)
    if len(rematch) > MAX_REMATCH:
        comparison.preview.too_many_to_rematch = len(rematch)
        return
    comparison.preview.rematched = len(rematch)
    for chunk in _chunks(rematch, CHUNK):
        texts = dict(db.session.execute(sa.select(Comment.id, Comment.text)
                                        .where(Comment.id.in_([r.id for r in chunk]))).all())
        for item in chunk:
            comparison.add_row(item, texts.get(item.id, ""))


def _chunks(items: Sequence[_Row], size: int) -> Iterable[Sequence[_Row]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _describe(changed: list[tuple[datetime, int, Decision, Decision]]) -> list[ChangedComment]:
    """The shown changes with what the page needs to name each comment (one query)."""
    if not changed:
        return []
    rows = {row.id: row for row in db.session.execute(
        sa.select(Comment.id, Comment.external_id, Comment.author_name, Comment.author_id, Comment.text)
        .where(Comment.id.in_([item[1] for item in changed])))}
    described = []
    for _, comment_id, before, after in changed:
        row = rows.get(comment_id)
        text = " ".join((row.text or "").split()) if row else ""
        described.append(ChangedComment(
            comment_id, before, after, external_id=row.external_id if row else "",
            author=(row.author_name or row.author_id or "Anonymous") if row else "",
            excerpt=text[:160] + ("…" if len(text) > 160 else "")))
    return described
