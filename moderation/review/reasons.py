"""Moderator reason codes for rejections, in keyboard order (r then 1..9)."""
from __future__ import annotations

REJECTION_REASONS: tuple[tuple[str, str], ...] = (
    ("offensive", "Offensive"),
    ("abusive", "Abusive"),
    ("hate_speech", "Hate speech"),
    ("ethnic_slur", "Ethnic slur"),
    ("harassment", "Harassment"),
    ("threat", "Threat"),
    ("spam", "Spam"),
    ("off_topic", "Off-topic"),
    ("other", "Other"),
)
REASON_CODES: tuple[str, ...] = tuple(code for code, _ in REJECTION_REASONS)
REASON_LABELS: dict[str, str] = dict(REJECTION_REASONS)
