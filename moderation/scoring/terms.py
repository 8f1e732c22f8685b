"""A lexicon term: the word, its category, language and severity (shared by the matcher and the file readers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    term: str
    category: str
    language: str
    severity: int
