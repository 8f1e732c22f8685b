"""Sentences of a text with their offsets, and conversion to Perspective's UTF-16 offsets (pure).

Sentences come from sentencex (Wikimedia's segmenter: rules for ~300 languages, including every
language a Detoxify model covers: en, fr, es, it, pt, tr, ru). pysbd was the other candidate; it
has no rules for Portuguese or Turkish and has not been released since 2021. ICU (PyICU) needs a
compiled extension and system ICU headers, which a plain `pip install` cannot promise.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    start: int  # code point offset in the text as given, inclusive
    end: int  # exclusive; the sentence without surrounding whitespace
    text: str


def sentences(text: str, language: str | None = None) -> list[Sentence]:
    """The text's sentences (whitespace trimmed), each located in `text` by code point offsets."""
    from sentencex import segment

    found: list[Sentence] = []
    position = 0
    for piece in segment(language or "en", text):
        stripped = piece.strip()
        if not stripped:
            continue
        # sentencex yields the text's own characters in order: find each piece from where the
        # last one ended, so repeated sentences get their own offsets.
        start = text.find(stripped, position)
        if start < 0:  # the segmenter changed the characters: fall back to one span
            return _whole(text)
        end = start + len(stripped)
        found.append(Sentence(start, end, stripped))
        position = end
    return found or _whole(text)


def _whole(text: str) -> list[Sentence]:
    stripped = text.strip()
    if not stripped:
        return []
    start = text.find(stripped)
    return [Sentence(start, start + len(stripped), stripped)]


def utf16_offset(text: str, index: int) -> int:
    """The UTF-16 code unit offset of code point `index` (characters beyond U+FFFF count twice)."""
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)


def code_point_offset(text: str, utf16_index: int) -> int:
    """The code point index of a UTF-16 offset (the inverse of utf16_offset)."""
    units = 0
    for i, ch in enumerate(text):
        if units >= utf16_index:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)
