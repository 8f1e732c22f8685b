"""The policy form: fields named after the policy document's paths, read into a document with errors per field.

Field names are the document's paths (`thresholds.identity_attack.review`, `banned_words`,
`suspect_words`, `premoderation`), so the page, `moderation policy import` and the JSON are
one model; Policy.from_dict stays the final judge of what may be saved. Errors are keyed by
field name, each a list of messages the page shows next to that field.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..policy import CATEGORIES, Policy, PolicyError
from ..policy_versions import NOTE_MAX
from .variants import matchable, same_word_key

LEVELS = ("review", "reject")
WORD_LISTS = ("banned_words", "suspect_words")
MAX_WORD_LENGTH = 100
MAX_WORDS = 5000


@dataclass
class PolicyForm:
    """What the editor sent: raw values to show again, the document, and errors per field."""

    values: dict[str, str]
    document: dict[str, Any]
    note: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    def policy(self) -> Policy:
        return Policy.from_dict(self.document)

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)


def threshold_path(category: str, level: str) -> str:
    return f"thresholds.{category}.{level}"


def field_label(path: str) -> str:
    """A field's name in words, for the list of errors ("Severe toxicity: reject at")."""
    from ..review.present import label

    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "thresholds":
        return f"{label(parts[1])}: {parts[2]} at"
    return {"banned_words": "Banned words", "suspect_words": "Suspect words", "premoderation": "Pre-moderation",
            "note": "Note", "form": "The policy"}.get(path, path)


def values_of(policy: Policy) -> dict[str, str]:
    """A policy as the form's raw values (what the inputs show)."""
    values: dict[str, str] = {}
    for category in CATEGORIES:
        threshold = policy.thresholds.get(category)
        for level in LEVELS:
            value = getattr(threshold, level) if threshold is not None else None
            values[threshold_path(category, level)] = "" if value is None else f"{value:g}"
    values["banned_words"] = "\n".join(policy.banned_words)
    values["suspect_words"] = "\n".join(policy.suspect_words)
    values["premoderation"] = "on" if policy.premoderation else ""
    return values


def _level(form: PolicyForm, path: str, raw: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None  # empty: this level is off
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        form.add(path, f"enter a number from 0 to 1 (or leave it empty to switch it off); got {raw[:20]!r}")
        return None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        form.add(path, f"must be from 0 to 1; got {raw[:20]}")
        return None
    return value


def _words(form: PolicyForm, path: str, raw: str) -> list[str]:
    """One word or phrase per line; blank lines are skipped; each line must be a word the matcher can find."""
    words: list[str] = []
    first_seen: dict[str, tuple[int, str]] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        word = " ".join(line.split())
        if not word:
            continue
        if len(word) > MAX_WORD_LENGTH:
            form.add(path, f"line {number}: longer than {MAX_WORD_LENGTH} characters")
            continue
        if not matchable(word):
            form.add(path, f"line {number}: {word!r} has no letters, so it can never match; remove it")
            continue
        key = same_word_key(word)
        if key in first_seen:
            earlier, spelling = first_seen[key]
            same = "is listed again" if spelling == word else f"is the same word as {spelling!r} once normalised"
            form.add(path, f"line {number}: {word!r} {same} (line {earlier}); keep one")
            continue
        first_seen[key] = (number, word)
        words.append(word)
    if len(words) > MAX_WORDS:
        form.add(path, f"at most {MAX_WORDS} entries; got {len(words)}")
    return words


def read_form(data: Mapping[str, str]) -> PolicyForm:
    """Read the submitted fields; every problem is reported against the field it belongs to."""
    values = {threshold_path(c, level): str(data.get(threshold_path(c, level), "")) for c in CATEGORIES
              for level in LEVELS}
    for key in WORD_LISTS:
        values[key] = str(data.get(key, ""))
    values["premoderation"] = "on" if data.get("premoderation") in ("on", "true", "1", "yes") else ""
    form = PolicyForm(values=values, document={}, note=str(data.get("note", "")).strip())

    thresholds: dict[str, dict[str, float | None]] = {}
    for category in CATEGORIES:
        levels = {level: _level(form, threshold_path(category, level), values[threshold_path(category, level)])
                  for level in LEVELS}
        review, reject = levels["review"], levels["reject"]
        if review is not None and reject is not None and reject < review:
            form.add(threshold_path(category, "reject"),
                     f"reject ({reject:g}) is below review ({review:g}): a comment would be rejected "
                     "before it would be held; raise reject or lower review")
        thresholds[category] = levels
    lists = {key: _words(form, key, values[key]) for key in WORD_LISTS}
    banned = {same_word_key(w): w for w in lists["banned_words"]}
    for word in lists["suspect_words"]:
        if same_word_key(word) in banned:
            form.add("suspect_words", f"{word!r} is also a banned word ({banned[same_word_key(word)]!r}); "
                                      "keep it in one list (banned rejects, suspect holds for a human)")
    if len(form.note) > NOTE_MAX:
        form.add("note", f"at most {NOTE_MAX} characters; got {len(form.note)}")
    form.document = {"thresholds": thresholds, **lists, "premoderation": values["premoderation"] == "on"}
    if form.valid:
        try:
            Policy.from_dict(form.document)  # the one validator every path goes through
        except PolicyError as error:
            for path, message in error.errors.items():
                form.add(path if path in values else "form", message)
    return form
