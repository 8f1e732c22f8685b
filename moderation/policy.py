"""A site's moderation policy and the pure decision it makes from scores and word matches."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # policy stays importable without the scoring package
    from moderation.scoring.lexicon import Match

# Detoxify's class names (all five models use a subset of these).
CATEGORIES = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "sexual_explicit")
STATUSES = ("pending", "approved", "queued", "rejected")  # the one list; the comments table checks it
BANNED, SUSPECT = "banned_word", "suspect_word"
# Lexicon categories that only tell the moderator what was said: the model judges them.
INFORMATIONAL_CATEGORIES = frozenset({"profanity", "insult"})


class PolicyError(ValueError):
    """An invalid policy; ``errors`` maps each failing field path to what was expected."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.errors.items()))


@dataclass(frozen=True)
class Threshold:
    review: float | None
    reject: float | None


@dataclass(frozen=True)
class Policy:
    thresholds: Mapping[str, Threshold]
    banned_words: tuple[str, ...] = ()
    suspect_words: tuple[str, ...] = ()
    premoderation: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "thresholds", MappingProxyType(dict(self.thresholds)))

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.thresholds.items())), self.banned_words, self.suspect_words,
                     self.premoderation))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and self.to_dict() == other.to_dict()

    @classmethod
    def from_dict(cls, data: Any) -> "Policy":
        """Validates an exported policy; missing fields take the defaults; raises PolicyError.

        A category missing from a given ``thresholds`` is not used: a stored version means
        exactly what it lists. A document from elsewhere goes through with_default_categories
        first (`moderation policy import`), so leaving a category out does not switch it off.
        """
        errors: dict[str, str] = {}
        if not isinstance(data, Mapping):
            raise PolicyError({"": f"expected a JSON object, got {type(data).__name__}"})
        for key in data:
            if key not in ("thresholds", "banned_words", "suspect_words", "premoderation"):
                errors[str(key)] = "unknown field; expected thresholds, banned_words, suspect_words, premoderation"
        thresholds = _read_thresholds(data.get("thresholds", None), errors)
        banned = _read_words(data, "banned_words", errors)
        suspect = _read_words(data, "suspect_words", errors)
        premoderation = data.get("premoderation", False)
        if not isinstance(premoderation, bool):
            errors["premoderation"] = f"expected true or false, got {premoderation!r}"
        if errors:
            raise PolicyError(errors)
        return cls(thresholds, banned, suspect, premoderation)

    def to_dict(self) -> dict:
        return {
            "thresholds": {name: {"review": t.review, "reject": t.reject} for name, t in self.thresholds.items()},
            "banned_words": list(self.banned_words),
            "suspect_words": list(self.suspect_words),
            "premoderation": self.premoderation,
        }


def with_default_categories(document: Any) -> tuple[Any, list[str]]:
    """The document with each category its `thresholds` leaves out at the default levels, and
    those categories (null review and reject, not absence, switch a category off)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("thresholds"), Mapping):
        return document, []
    given = document["thresholds"]
    missing = [name for name in CATEGORIES if name not in given and name in DEFAULT_POLICY.thresholds]
    defaults = DEFAULT_POLICY.to_dict()["thresholds"]
    return {**document, "thresholds": {**given, **{name: defaults[name] for name in missing}}}, missing


def _read_thresholds(raw: Any, errors: dict[str, str]) -> dict[str, Threshold]:
    if raw is None:
        return dict(DEFAULT_POLICY.thresholds)
    if not isinstance(raw, Mapping):
        errors["thresholds"] = f"expected an object of categories, got {type(raw).__name__}"
        return {}
    thresholds = {}
    for name, value in raw.items():
        path = f"thresholds.{name}"
        if name not in CATEGORIES:
            errors[path] = f"unknown category {name!r}; expected one of {', '.join(CATEGORIES)}"
            continue
        if not isinstance(value, Mapping):
            errors[path] = f'expected {{"review": number, "reject": number}}, got {value!r}'
            continue
        unknown = set(value) - {"review", "reject"}
        if unknown:
            errors[path] = f"unknown keys {sorted(unknown)}; expected review and reject"
            continue
        review = _read_level(value.get("review"), f"{path}.review", errors)
        reject = _read_level(value.get("reject"), f"{path}.reject", errors)
        if review is not None and reject is not None and review > reject:
            errors[path] = f"review ({review}) must not be above reject ({reject})"
        thresholds[name] = Threshold(review, reject)
    return thresholds


def _read_level(value: Any, path: str, errors: dict[str, str]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0.0 <= value <= 1.0:
        errors[path] = f"expected a number from 0 to 1 or null, got {value!r}"
        return None
    return float(value)


def _read_words(data: Mapping, key: str, errors: dict[str, str]) -> tuple[str, ...]:
    raw = data.get(key, [])
    if not isinstance(raw, (list, tuple)):
        errors[key] = f"expected a list of words, got {type(raw).__name__}"
        return ()
    words = []
    for i, word in enumerate(raw):
        if not isinstance(word, str) or not word.strip():
            errors[f"{key}[{i}]"] = f"expected a non-empty string, got {word!r}"
        else:
            words.append(word.strip())
    return tuple(dict.fromkeys(words))


# Defaults from published practice, as surveyed in issue 3: flag toxicity at 0.8 (the
# threshold Coral Talk ships for its Perspective integration, inside the 0.7-0.9 range
# Perspective's documentation suggests for review), identity attack, insult and threat at
# 0.6, severe toxicity at 0.3 (it is rarely high on comments that are not abusive).
# Reject only where the model is very sure; obscene and sexual_explicit never reject on
# their own (swearing is not abuse), and everything between goes to a human.
DEFAULT_POLICY = Policy(
    thresholds={
        "toxicity": Threshold(review=0.8, reject=0.95),
        "severe_toxicity": Threshold(review=0.3, reject=0.7),
        "identity_attack": Threshold(review=0.6, reject=0.9),
        "insult": Threshold(review=0.6, reject=0.9),
        "threat": Threshold(review=0.6, reject=0.9),
        "obscene": Threshold(review=0.8, reject=None),
        "sexual_explicit": Threshold(review=0.8, reject=None),
    }
)


@dataclass
class Decision:
    status: str  # "approved" | "queued" | "rejected" | "pending"
    reasons: list[dict] = field(default_factory=list)
    matches: list[dict] = field(default_factory=list)
    # Why the scores were not used (not finite, or a category the policy needs is missing).
    unusable_scores: str | None = None


INVALID_SCORES = "invalid scores"  # the prefix of every unusable_scores message


def unusable_scores(scores: Mapping[str, Any], policy: Policy,
                    categories: Collection[str] | None = None) -> str | None:
    """Why `scores` cannot be trusted for `policy`, or None when they can.

    Every score must be a finite number from 0 to 1, and every category the policy has a
    threshold for must be scored; ``categories`` (the model's classes, when known) excuses
    the ones the model does not produce, such as ``sexual_explicit`` for ``original``.
    """
    bad = sorted(name for name, value in scores.items()
                 if isinstance(value, bool) or not isinstance(value, (int, float))
                 or not math.isfinite(value) or not 0.0 <= value <= 1.0)
    if bad:
        return f"{INVALID_SCORES}: not a number from 0 to 1 for {', '.join(map(str, bad))}"
    used = [name for name, t in policy.thresholds.items() if t.review is not None or t.reject is not None]
    expected = [name for name in used if categories is None or name in categories]
    missing = [name for name in expected if name not in scores]
    if missing:
        return f"{INVALID_SCORES}: no score for {', '.join(missing)}"
    if not scores:
        return f"{INVALID_SCORES}: the model returned no scores"
    return None


def decide(
    scores: Mapping[str, float] | None,
    matches: Sequence["Match"],
    policy: Policy,
    *,
    language: str | None = None,
    covered_languages: frozenset[str] | None = None,
    categories: Collection[str] | None = None,
) -> Decision:
    """Turns scores and matches into a status with every reason; fails closed.

    - A banned word rejects; a suspect word or a lexicon slur queues. Slurs queue rather
      than reject at any severity: quoting, reporting or reclaiming a slur is common in
      comment sections, and only a human can tell; sites wanting automatic rejection list
      the word as banned.
    - A score at or above ``reject`` rejects, at or above ``review`` queues.
    - A language the model does not cover queues, and its scores can then only queue.
    - ``scores`` None (the scorer is down) never approves: "pending" unless a word list or
      the lexicon already decided. Premoderation and an uncovered language do not decide
      alone then (only a model score, a word list or a human moves a comment out of
      "pending"): the comment waits for its scores, and is queued with them. Scores that
      are not finite numbers from 0 to 1, or that lack a category the policy uses (see
      ``unusable_scores``), count as no scores.
    """
    problem = unusable_scores(scores, policy, categories) if scores is not None else None
    if problem is not None:
        scores = None
    reasons: list[dict] = []
    rejected = queued = False
    seen: set[tuple[str, str]] = set()
    for match in matches:
        if match.category in INFORMATIONAL_CATEGORIES or (match.category, match.term) in seen:
            continue
        seen.add((match.category, match.term))
        reason = {"code": match.category, "term": match.term, "start": match.start, "end": match.end}
        if match.category == BANNED:
            rejected = True
        else:
            queued = True
            if match.category != SUSPECT:
                reason["severity"] = match.severity
        reasons.append(reason)

    unsupported = bool(language and covered_languages is not None
                       and language.split("-")[0] not in covered_languages)
    if scores is not None:
        for name, threshold in policy.thresholds.items():
            score = scores.get(name)
            if score is None:
                continue
            if threshold.reject is not None and score >= threshold.reject:
                reasons.append({"code": name, "score": round(score, 4), "threshold": threshold.reject})
                rejected = rejected or not unsupported
                queued = True
            elif threshold.review is not None and score >= threshold.review:
                reasons.append({"code": name, "score": round(score, 4), "threshold": threshold.review})
                queued = True
    if unsupported:
        reasons.append({"code": "unsupported_language", "language": language})
        queued = queued or scores is not None
    if policy.premoderation:
        reasons.append({"code": "premoderation"})
        queued = queued or scores is not None

    if rejected:
        status = "rejected"
    elif queued:
        status = "queued"
    else:
        status = "pending" if scores is None else "approved"
    return Decision(status, reasons, [m.to_dict() for m in matches], problem)
