"""The deployment's slur lexicon: the packaged list plus its own terms in the database (global or per site).

Every web process and worker builds its matcher from the database and notices edits without a
restart: at most every LEXICON_CHECK_SECONDS it reads a version of the table (the highest id
and the number of removed rows; rows are never deleted, so any add or removal changes it) and
rebuilds the automaton only when that changed.

Terms in the old file (MODERATION_LEXICON_PATH, instance/lexicon.tsv) are still read, once
per process, so an upgrade loses none; `moderation lexicon import --format tsv FILE` moves
them into the database, after which the file can go.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app

from .. import audit
from ..extensions import db
from ..models import LexiconTerm, utcnow
from ..scoring import Lexicon, Term
from ..scoring.lexicon_files import read_lexicon_tsv

logger = logging.getLogger(__name__)

EXTENSION_KEY = "moderation.lexicon"
DEFAULT_CHECK_SECONDS = 5.0
# Categories the page offers; the policy queues every one but the informational ones.
CATEGORIES = ("ethnic_slur", "religious_slur", "slur", "threat", "insult", "profanity")
_CATEGORY = re.compile(r"^[a-z][a-z_]{0,31}$")
_LANGUAGE = re.compile(r"^([a-z]{2,3}|any)$")
MAX_TERM = 200
AUDIT_LIST_LIMIT = 200  # terms named in one audit row; the count is always complete


class LexiconEditError(ValueError):
    """A term that cannot be stored; `errors` maps each field to what was expected."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


def extra_path(app: Flask) -> Path:
    """The old lexicon file: MODERATION_LEXICON_PATH, or lexicon.tsv in the instance folder."""
    configured = app.config.get("LEXICON_PATH")
    return Path(configured) if configured else Path(app.instance_path) / "lexicon.tsv"


def table_version() -> tuple[int, int]:
    """Changes on every add and removal: (highest id, removed rows)."""
    row = db.session.execute(sa.select(sa.func.max(LexiconTerm.id), sa.func.count(LexiconTerm.deleted_at))).one()
    return int(row[0] or 0), int(row[1] or 0)


def active_terms(site_id: int | None, *, include_global: bool = True) -> list[LexiconTerm]:
    """The stored terms in force for a site (with the global ones), or the global ones alone."""
    query = sa.select(LexiconTerm).where(LexiconTerm.deleted_at.is_(None))
    scopes = [LexiconTerm.site_id.is_(None)] if include_global or site_id is None else []
    if site_id is not None:
        scopes.append(LexiconTerm.site_id == site_id)
    return list(db.session.scalars(query.where(sa.or_(*scopes)).order_by(LexiconTerm.term, LexiconTerm.id)))


def _as_term(row: LexiconTerm) -> Term:
    return Term(row.term, row.category, row.language, row.severity)


class LexiconHolder:
    """One matcher per site (packaged + legacy file + global + the site's terms), rebuilt when the table changes."""

    def __init__(self, legacy_path: Path, check_seconds: float) -> None:
        self.legacy_path = legacy_path
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._legacy: list[Term] | None = None
        self._version: tuple[int, int] | None = None
        self._checked_at = float("-inf")
        self._by_site: dict[int | None, Lexicon] = {}

    def legacy_terms(self) -> list[Term]:
        if self._legacy is None:
            self._legacy = read_lexicon_tsv(self.legacy_path) if self.legacy_path.is_file() else []
            if self._legacy:
                logger.warning("%d lexicon term(s) still come from %s; move them into the database with "
                               "`moderation lexicon import --format tsv %s`", len(self._legacy),
                               self.legacy_path, self.legacy_path)
        return self._legacy

    def get(self, site_id: int | None) -> Lexicon:
        with self._lock:
            now = time.monotonic()
            if now - self._checked_at >= self.check_seconds:
                version = table_version()  # read before the terms: a later edit shows as a newer version
                self._checked_at = now
                if version != self._version:
                    self._version = version
                    self._by_site.clear()
            lexicon = self._by_site.get(site_id)
            if lexicon is None:
                stored = [_as_term(row) for row in active_terms(site_id)]
                lexicon = Lexicon.from_terms([*Lexicon.default(), *self.legacy_terms(), *stored])
                self._by_site[site_id] = lexicon
            return lexicon


def init_app(app: Flask) -> None:
    seconds = float(app.config.get("LEXICON_CHECK_SECONDS", DEFAULT_CHECK_SECONDS))
    app.extensions[EXTENSION_KEY] = LexiconHolder(extra_path(app), seconds)


def lexicon(site_id: int | None = None) -> Lexicon:
    """The matcher for a site's comments (None: the terms every site shares)."""
    return current_app.extensions[EXTENSION_KEY].get(site_id)


def validate(term: str, category: str, language: str, severity: int | str) -> Term:
    """A term as typed on the page or read from a file, checked; raises LexiconEditError."""
    from ..scoring.lexicon_files import LexiconFormatError, parse_severity

    errors: dict[str, str] = {}
    text = (term or "").strip()
    if not text:
        errors["term"] = "enter a word or phrase"
    elif len(text) > MAX_TERM or "\t" in text or "\n" in text:
        errors["term"] = f"one line of at most {MAX_TERM} characters, without tabs"
    elif not any(c.isalpha() for c in text):
        errors["term"] = "a term needs at least one letter"
    if not _CATEGORY.match(category or ""):
        errors["category"] = f"lowercase letters and _, e.g. {', '.join(CATEGORIES[:3])}; got {category!r}"
    if not _LANGUAGE.match(language or ""):
        errors["language"] = f"a two- or three-letter code (en, ru, tr) or 'any'; got {language!r}"
    level = 0
    try:
        level = parse_severity(severity)
    except LexiconFormatError as error:
        errors["severity"] = str(error).removeprefix("severity: ")
    if errors:
        raise LexiconEditError(errors)
    return Term(text, category, language, level)


@dataclass(frozen=True)
class AddResult:
    added: list[LexiconTerm]
    skipped: int  # already in the packaged list or stored for this scope


def _key(term: Term) -> tuple[str, str, str]:
    return term.term.casefold(), term.category, term.language


def add_terms(terms: Iterable[Term], *, site_id: int | None, actor_type: str, actor_id: str) -> AddResult:
    """Store new terms for a site (or globally), skipping known ones, with one audit row (the caller commits)."""
    known = {_key(t) for t in Lexicon.default()}
    known.update(_key(_as_term(row)) for row in active_terms(site_id))
    added: list[LexiconTerm] = []
    skipped = 0
    for term in terms:
        if _key(term) in known:
            skipped += 1
            continue
        known.add(_key(term))
        row = LexiconTerm(term=term.term, category=term.category, language=term.language, severity=term.severity,
                          site_id=site_id, created_by=actor_id, created_at=utcnow())
        db.session.add(row)
        added.append(row)
    if added:
        db.session.flush()
        audit.record("lexicon.terms_added", actor_type=actor_type, actor_id=actor_id, site_id=site_id,
                     details={"scope": "site" if site_id is not None else "global", "count": len(added),
                              "terms": [{"id": r.id, "term": r.term, "category": r.category,
                                         "language": r.language, "severity": r.severity}
                                        for r in added[:AUDIT_LIST_LIMIT]]})
    return AddResult(added, skipped)


def remove_term(row: LexiconTerm, *, actor_type: str, actor_id: str) -> None:
    """Take a term out of use (kept, marked removed) with an audit row (the caller commits)."""
    if row.deleted_at is not None:
        return
    row.deleted_at = utcnow()
    row.deleted_by = actor_id
    audit.record("lexicon.term_removed", actor_type=actor_type, actor_id=actor_id, site_id=row.site_id,
                 details={"id": row.id, "term": row.term, "category": row.category, "language": row.language,
                          "scope": "site" if row.site_id is not None else "global"})
