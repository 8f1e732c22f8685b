"""How well a policy agrees with human decisions, per category, and the threshold that would agree best (pure).

A label is a human's judgement of one scored text: a moderator who rejected a comment calls
it harmful, one who approved it calls it fine (whether it was queued or an automatic decision
being reversed), and a Perspective `suggestscore` may label one attribute of a text.
"Flagged" means the policy would not approve the text by itself (it queues or rejects it),
so precision is the share of flagged texts the humans rejected and recall the share of
rejected texts the policy flagged.

The suggested threshold for a category moves only that category's `review` level, with every
other rule of the proposed policy left as it is, and keeps the level with the best F1 of the
whole policy against the labels (ties: the one nearest the present level). It is a
suggestion with its counts; nothing here changes a policy.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..policy import CATEGORIES, Policy, Threshold, decide
from ..scoring.lexicon import Match

MIN_LABELS = 10  # fewer labels with a score for a category: no suggestion
CANDIDATES = tuple(round(i / 100, 2) for i in range(5, 100))  # 0.05 ... 0.99


@dataclass(frozen=True)
class Label:
    scores: Mapping[str, float]
    harmful: bool
    matches: Sequence[Mapping] = ()
    language: str | None = None
    source: str = "moderator"  # or "suggestscore"
    # What the service had decided before the human (approved, rejected, queued, pending), if known.
    machine_status: str | None = None
    # A label about one category only (a suggestscore for one attribute); None: about the text.
    category: str | None = None


@dataclass(frozen=True)
class Confusion:
    """Flagged/not flagged by a policy against harmful/fine by the humans."""

    tp: int = 0  # flagged, humans rejected
    fp: int = 0  # flagged, humans approved
    fn: int = 0  # not flagged, humans rejected
    tn: int = 0  # not flagged, humans approved

    @property
    def agreed(self) -> int:
        return self.tp + self.tn

    @property
    def disagreed(self) -> int:
        return self.fp + self.fn

    @property
    def total(self) -> int:
        return self.agreed + self.disagreed

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else (0.0 if self.fp + self.fn else None)


@dataclass(frozen=True)
class Suggestion:
    category: str
    threshold: float
    at_suggestion: Confusion  # the whole proposed policy with this category's review level moved
    at_present: Confusion     # the whole proposed policy as it is
    form_values: Mapping[str, float]  # field path -> value, for the policy form (review, and reject if it must move)


@dataclass(frozen=True)
class CategoryAgreement:
    category: str
    labels: int                 # labels with a score for this category
    current_level: float | None  # the level that flags (review, else reject)
    proposed_level: float | None
    current: Confusion          # this category's level alone as the flag
    proposed: Confusion
    wrongly_rejected_current: int  # would reject on this category, humans approved
    wrongly_rejected_proposed: int
    suggestion: Suggestion | None
    why_no_suggestion: str | None = None


@dataclass(frozen=True)
class Agreement:
    labels: int
    harmful: int
    by_source: Mapping[str, int]
    current: Confusion   # the whole current policy
    proposed: Confusion  # the whole proposed policy
    # Automatic decisions the humans reversed: as they happened, and as each policy would have made them.
    overturned: Mapping[str, int]
    overturned_current: Mapping[str, int]
    overturned_proposed: Mapping[str, int]
    categories: list[CategoryAgreement] = field(default_factory=list)


def flag_level(threshold: Threshold | None) -> float | None:
    """The score from which a category sends a comment out of `approved`."""
    if threshold is None:
        return None
    levels = [x for x in (threshold.review, threshold.reject) if x is not None]
    return min(levels) if levels else None


def _matches(label: Label) -> list[Match]:
    fields_ = ("term", "category", "start", "end", "severity", "language")
    return [Match(**{k: m.get(k, 0 if k in ("start", "end", "severity") else "") for k in fields_})
            for m in label.matches]


def _status(label: Label, policy: Policy, covered: frozenset[str] | None) -> str:
    # Stored scores were checked when they were made; the classes they hold are the model's.
    categories = tuple(label.scores) if label.scores else None
    return decide(label.scores, _matches(label), policy, language=label.language, covered_languages=covered,
                  categories=categories).status


def _confusion(flags: Iterable[bool], labels: Sequence[Label]) -> Confusion:
    tp = fp = fn = tn = 0
    for flagged, label in zip(flags, labels):
        if flagged and label.harmful:
            tp += 1
        elif flagged:
            fp += 1
        elif label.harmful:
            fn += 1
        else:
            tn += 1
    return Confusion(tp, fp, fn, tn)


def _overturned(statuses: Sequence[str | None], labels: Sequence[Label]) -> dict[str, int]:
    return {
        "approved_then_rejected": sum(1 for s, l in zip(statuses, labels) if s == "approved" and l.harmful),
        "rejected_then_approved": sum(1 for s, l in zip(statuses, labels) if s == "rejected" and not l.harmful),
    }


class _Flags:
    """Whether a policy flags each label, split so one category's level can vary cheaply.

    A policy flags a text when its words, language or pre-moderation do (`base`, one decide()
    per label) or when any category's score reaches that category's flag level.
    """

    def __init__(self, labels: Sequence[Label], policy: Policy, covered: frozenset[str] | None) -> None:
        no_scores = replace(policy, thresholds={})
        self.labels = labels
        self.levels = {name: level for name, t in policy.thresholds.items() if (level := flag_level(t)) is not None}
        self.base = [_status(label, no_scores, covered) != "approved" for label in labels]
        # The categories whose level each label's scores reach, computed once.
        self.hits = [frozenset(name for name, level in self.levels.items() if label.scores.get(name, -1.0) >= level)
                     for label in labels]

    def flagged(self, *, ignoring: str | None = None) -> list[bool]:
        return [base or len(hits) > 1 or (len(hits) == 1 and ignoring not in hits)
                for base, hits in zip(self.base, self.hits)]


def _suggest(category: str, labels: Sequence[Label], policy: Policy, flags: _Flags,
             present: Confusion) -> tuple[Suggestion | None, str | None]:
    scored = [label for label in labels if category in label.scores]
    if len(scored) < MIN_LABELS:
        decisions = "1 decision" if len(scored) == 1 else f"{len(scored)} decisions"
        return None, f"{decisions} with a score for {category.replace('_', ' ')}; {MIN_LABELS} needed"
    if all(label.harmful for label in scored) or not any(label.harmful for label in scored):
        return None, "the decisions are all one way; both approvals and rejections are needed"
    # Flagged by the rest of the policy whatever this category's level.
    others = flags.flagged(ignoring=category)
    free_harmful = sorted(l.scores[category] for o, l in zip(others, labels)
                          if not o and category in l.scores and l.harmful)
    free_fine = sorted(l.scores[category] for o, l in zip(others, labels)
                       if not o and category in l.scores and not l.harmful)
    always_tp = sum(1 for o, l in zip(others, labels) if o and l.harmful)
    always_fp = sum(1 for o, l in zip(others, labels) if o and not l.harmful)
    # Texts neither flagged by the rest nor scored for this category stay unflagged at every level.
    unscored_h = sum(1 for o, l in zip(others, labels) if not o and category not in l.scores and l.harmful)
    unscored_f = sum(1 for o, l in zip(others, labels) if not o and category not in l.scores and not l.harmful)
    current = flag_level(policy.thresholds.get(category))

    def at(level: float) -> Confusion:
        caught = len(free_harmful) - bisect_left(free_harmful, level)
        false_alarms = len(free_fine) - bisect_left(free_fine, level)
        return Confusion(always_tp + caught, always_fp + false_alarms,
                         unscored_h + len(free_harmful) - caught, unscored_f + len(free_fine) - false_alarms)

    def rank(level: float) -> tuple[float, float, float]:
        result = at(level)
        return (result.f1 or 0.0, -abs(level - (current if current is not None else 1.0)), level)

    best = max(CANDIDATES, key=rank)
    threshold = policy.thresholds.get(category, Threshold(None, None))
    values = {f"thresholds.{category}.review": best}
    if threshold.reject is not None and threshold.reject < best:
        values[f"thresholds.{category}.reject"] = best  # review may not sit above reject
    return Suggestion(category, best, at(best), present, values), None


def agreement(labels: Sequence[Label], current: Policy, proposed: Policy, *,
              covered_languages: frozenset[str] | None = None,
              categories: Sequence[str] = CATEGORIES) -> Agreement:
    """Agreement of the current and the proposed policy with the labels, per category, with suggestions."""
    labels = [label for label in labels if label.scores]  # a text never scored says nothing about thresholds
    whole = [label for label in labels if label.category is None]
    current_status = [_status(label, current, covered_languages) for label in whole]
    proposed_status = [_status(label, proposed, covered_languages) for label in whole]
    by_source: dict[str, int] = {}
    for label in labels:
        by_source[label.source] = by_source.get(label.source, 0) + 1
    proposed_whole = _confusion((s != "approved" for s in proposed_status), whole)
    result = Agreement(
        labels=len(labels), harmful=sum(1 for label in labels if label.harmful), by_source=by_source,
        current=_confusion((s != "approved" for s in current_status), whole), proposed=proposed_whole,
        overturned=_overturned([label.machine_status for label in whole], whole),
        overturned_current=_overturned(current_status, whole),
        overturned_proposed=_overturned(proposed_status, whole),
    )
    proposed_flags = _Flags(whole, proposed, covered_languages)
    for category in categories:
        relevant = [label for label in labels if label.category in (None, category)]
        scored = [label for label in relevant if category in label.scores]
        levels = flag_level(current.thresholds.get(category)), flag_level(proposed.thresholds.get(category))
        per_level = [_confusion((level is not None and l.scores[category] >= level for l in scored), scored)
                     for level in levels]
        rejects = [(policy.thresholds.get(category) or Threshold(None, None)).reject for policy in (current, proposed)]
        wrongly = [sum(1 for l in scored if r is not None and l.scores[category] >= r and not l.harmful)
                   for r in rejects]
        flags = _Flags(relevant, proposed, covered_languages) if len(relevant) != len(whole) else proposed_flags
        present = _confusion(flags.flagged(), relevant)
        suggestion, why = _suggest(category, relevant, proposed, flags, present)
        result.categories.append(CategoryAgreement(
            category, len(scored), levels[0], levels[1], per_level[0], per_level[1], wrongly[0], wrongly[1],
            suggestion, why))
    return result
