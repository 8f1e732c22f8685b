"""Turning a comment's stored data into what the card shows: highlighted text, score bars, links.

Everything returned as Markup is built here from escaped pieces, so templates never need
`|safe` for it; the only other markup in a card is the sanitiser's own output (comment.html).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from ..policy import CATEGORIES

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
