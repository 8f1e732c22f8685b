"""Turning a comment's stored data into what the card shows: highlighted text, score bars, links.

Everything returned as Markup is built here from escaped pieces, so templates never need
`|safe` for it; the only other markup in a card is the sanitiser's own output (comment.html).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from ..policy import CATEGORIES
from .reasons import REASON_LABELS

CATEGORY_LABELS = {
    "toxicity": "Toxicity", "severe_toxicity": "Severe toxicity", "obscene": "Obscenity",
    "threat": "Threat", "insult": "Insult", "identity_attack": "Identity attack",
    "sexual_explicit": "Sexual content", "banned_word": "Banned word", "suspect_word": "Suspect word",
    "ethnic_slur": "Ethnic slur", "unsupported_language": "Language not covered",
    "premoderation": "Pre-moderation",
}


def label(code: str | None) -> str:
    if not code:
        return ""
    return CATEGORY_LABELS.get(code, code.replace("_", " ").capitalize())


def _spans(text: str, matches: list[dict[str, Any]]) -> list[tuple[int, int, list[str]]]:
    """Valid match spans, sorted, overlapping ones merged (with all their labels)."""
    spans = []
    for match in matches or []:
        start, end = match.get("start"), match.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
            continue  # offsets from another revision of the text: show nothing rather than a wrong span
        spans.append((start, end, f"{label(match.get('category'))}: {match.get('term', '')}".strip(": ")))
    spans.sort()
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, title in spans:
        if merged and start < merged[-1][1]:
            last_start, last_end, titles = merged[-1]
            merged[-1] = (last_start, max(last_end, end), titles + [title])
        else:
            merged.append((start, end, [title]))
    return merged


def highlight(text: str, matches: list[dict[str, Any]]) -> Markup:
    """The plain text, escaped, with <mark> around each matched span (offsets index `text`)."""
    parts: list[Markup] = []
    position = 0
    for start, end, titles in _spans(text, matches):
        parts.append(escape(text[position:start]))
        parts.append(Markup('<mark title="{}">{}</mark>').format("; ".join(titles), text[start:end]))
        position = end
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def percent(value: float | None) -> int:
    if value is None:
        return 0
    return max(0, min(100, round(float(value) * 100)))


@dataclass(frozen=True)
class ScoreBar:
    code: str
    label: str
    score: float
    review: float | None
    reject: float | None

    @property
    def width(self) -> int:  # CSS class w-<n>: the CSP forbids style attributes
        return percent(self.score)

    @property
    def level(self) -> str:
        if self.reject is not None and self.score >= self.reject:
            return "over-reject"
        if self.review is not None and self.score >= self.review:
            return "over-review"
        return "under"


def score_bars(scores: dict[str, float] | None, thresholds: dict[str, dict[str, float | None]]) -> list[ScoreBar]:
    """One bar per scored category, in the model's order, with the policy's thresholds."""
    if not scores:
        return []
    order = [c for c in CATEGORIES if c in scores] + sorted(c for c in scores if c not in CATEGORIES)
    return [ScoreBar(code, label(code), float(scores[code]), (thresholds.get(code) or {}).get("review"),
                     (thresholds.get(code) or {}).get("reject")) for code in order]


def safe_link(url: str | None) -> str | None:
    """The publisher's article URL if it is plain http(s); otherwise no link at all."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


# --- comments the scorer has not decided ---------------------------------------------------

# The scorer's error messages (scoring/detoxify_backend.py, scoring/lazy.py, scoring/assess.py)
# by their opening words, in words a moderator can read. The exception itself is for operators:
# `moderation model info` and /readyz show it.
_NOT_SCORED = (
    ("download failed", "the model could not be downloaded (this server may have no internet access)"),
    ("no checkpoint", "the model's files are missing on this server"),
    ("no hugging face config", "the model's files are missing on this server"),
    ("cannot read checkpoint", "the model's files could not be read"),
    ("detoxify is not installed", "the model software is not installed on this server"),
    ("no scorer configured", "no model is configured"),
)


def not_scored_reason(error: str | None) -> str:
    """Why a pending comment has no score yet, in one line of words (never the raw exception)."""
    lowered = (error or "").strip().lower()
    if not lowered:
        return "waiting for the scorer"
    for start, words in _NOT_SCORED:
        if lowered.startswith(start):
            return words
    if "checkpoint" in lowered or lowered.startswith("cannot load"):
        return "the model could not be loaded"
    if "unavailable" in lowered or "not loaded" in lowered:
        return "the model is not available"
    return "scoring failed; it is tried again"


# --- who decided and how sure the model was -------------------------------------------------

POLICY_REASONS = frozenset({"unsupported_language", "premoderation"})


def model_score(reasons: list[dict[str, Any]] | None) -> float | None:
    """The highest model score among a comment's reasons; None when no model score put it here."""
    values = [float(r["score"]) for r in reasons or []
              if r.get("code") in CATEGORIES and isinstance(r.get("score"), (int, float))]
    return max(values) if values else None


def deciders(codes: Iterable[str]) -> str:
    """Which part of the service a set of reason codes comes from: "model", "word list", both..."""
    sources = []
    codes = [code for code in codes if code]
    if any(code in CATEGORIES for code in codes):
        sources.append("model")
    if any(code not in CATEGORIES and code not in POLICY_REASONS for code in codes):
        sources.append("word list")
    if any(code in POLICY_REASONS for code in codes):
        sources.append("site policy")
    return " and ".join(sources) or "model"


# --- the card's history ------------------------------------------------------------------

_OUTCOMES = {"approved": "Approved", "queued": "Held for review", "rejected": "Rejected", "pending": "Pending"}


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    text: str  # what happened, in words
    by: str  # who or what did it
    detail: str = ""


def history_lines(entries: Iterable[Any]) -> list[HistoryLine]:
    """The audit rows of one comment as sentences: what happened, by whom, and why."""
    lines = []
    for entry in entries:
        action, to_status = entry.action, entry.to_status
        details = entry.details or {}
        if action in ("comment.received", "comment.edited"):
            text = "Received" if action == "comment.received" else "Edited"
            lines.append(HistoryLine(entry.at, f"{text} (version {details.get('revision', '?')})",
                                     f"publisher {entry.actor_id}" if entry.actor_id else "the publisher"))
        elif action == "comment.assessed" and to_status == "pending":
            lines.append(HistoryLine(entry.at, "Not scored yet", "the scorer", not_scored_reason(entry.reason)))
        elif action == "comment.assessed":
            codes = [code.strip() for code in (entry.reason or "").split(",")]
            reasons = ", ".join(label(code) for code in codes if code)
            lines.append(HistoryLine(entry.at, _OUTCOMES.get(to_status, to_status or "Assessed"),
                                     deciders(codes) if reasons else "model", reasons))
        elif action == "comment.moderated":
            reason = REASON_LABELS.get(entry.reason or "", entry.reason or "")
            lines.append(HistoryLine(entry.at, _OUTCOMES.get(to_status, to_status or "Decided"),
                                     entry.actor_id or entry.actor_type, reason))
        elif action == "comment.decision_undone":
            lines.append(HistoryLine(entry.at, "Decision undone",
                                     entry.actor_id or entry.actor_type,
                                     f"{_OUTCOMES.get(to_status, to_status or '')} again".capitalize()))
        else:
            change = f": {entry.from_status or '—'} → {to_status or '—'}" if entry.from_status or to_status else ""
            lines.append(HistoryLine(entry.at, f"{action}{change}", entry.actor_id or entry.actor_type,
                                     entry.reason or ""))
    return lines
