"""What changed between two policy documents: thresholds from/to, words added/removed, pre-moderation (pure)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..policy import CATEGORIES


@dataclass(frozen=True)
class ThresholdChange:
    category: str
    level: str  # "review" | "reject"
    before: float | None  # None: off
    after: float | None

    @property
    def path(self) -> str:
        return f"thresholds.{self.category}.{self.level}"


@dataclass
class PolicyDiff:
    thresholds: list[ThresholdChange] = field(default_factory=list)
    banned_added: list[str] = field(default_factory=list)
    banned_removed: list[str] = field(default_factory=list)
    suspect_added: list[str] = field(default_factory=list)
    suspect_removed: list[str] = field(default_factory=list)
    premoderation: tuple[bool, bool] | None = None  # (before, after) when it changed

    def __bool__(self) -> bool:
        return bool(self.thresholds or self.banned_added or self.banned_removed or self.suspect_added
                    or self.suspect_removed or self.premoderation)

    def changed_paths(self) -> set[str]:
        """The form fields whose value differs (for marking them on the page)."""
        paths = {change.path for change in self.thresholds}
        if self.banned_added or self.banned_removed:
            paths.add("banned_words")
        if self.suspect_added or self.suspect_removed:
            paths.add("suspect_words")
        if self.premoderation:
            paths.add("premoderation")
        return paths


def _level(document: Mapping[str, Any], category: str, level: str) -> float | None:
    value = ((document.get("thresholds") or {}).get(category) or {}).get(level)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _words(document: Mapping[str, Any], key: str) -> list[str]:
    return [w for w in document.get(key) or [] if isinstance(w, str)]


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> PolicyDiff:
    """Changes from one policy document to the next; a category missing from one is "off" there."""
    before = before or {}
    result = PolicyDiff()
    named = set((before.get("thresholds") or {})) | set((after.get("thresholds") or {}))
    for category in [*CATEGORIES, *sorted(named - set(CATEGORIES))]:
        for level in ("review", "reject"):
            old, new = _level(before, category, level), _level(after, category, level)
            if old != new:
                result.thresholds.append(ThresholdChange(category, level, old, new))
    for key, added, removed in (("banned_words", result.banned_added, result.banned_removed),
                                ("suspect_words", result.suspect_added, result.suspect_removed)):
        old_words, new_words = _words(before, key), _words(after, key)
        added.extend(w for w in new_words if w not in set(old_words))
        removed.extend(w for w in old_words if w not in set(new_words))
    old_pre, new_pre = bool(before.get("premoderation")), bool(after.get("premoderation"))
    if old_pre != new_pre:
        result.premoderation = (old_pre, new_pre)
    return result
