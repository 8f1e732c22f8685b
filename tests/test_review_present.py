"""What the moderators' screens say about scores, deciders and history (moderation/review/present.py)."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from moderation.review import present

# The messages the scorer really stores (scoring/detoxify_backend.py, scoring/lazy.py, scoring/assess.py).
ISSUE_EXAMPLE = "download failed: URLError: <urlopen error [Errno -2] Name or service not known>"


@pytest.mark.parametrize("error, words", [
    (ISSUE_EXAMPLE, "the model could not be downloaded (this server may have no internet access)"),
    ("no checkpoint at /models/x.ckpt", "the model's files are missing on this server"),
    ("no Hugging Face config.json in /models/config", "the model's files are missing on this server"),
    ("cannot read checkpoint /m.ckpt: UnpicklingError: bad", "the model's files could not be read"),
    ("/m.ckpt is not a Detoxify checkpoint (missing 'config')", "the model could not be loaded"),
    ("cannot load model: RuntimeError: boom", "the model could not be loaded"),
    ("Detoxify is not installed: No module named 'torch'", "the model software is not installed on this server"),
    ("no scorer configured", "no model is configured"),
    ("scorer unavailable: model not loaded", "the model is not available"),
    ("RuntimeError: CUDA out of memory", "scoring failed; it is tried again"),
    (None, "waiting for the scorer"),
])
def test_not_scored_reason_is_words_not_the_exception(error, words):
    assert present.not_scored_reason(error) == words
    assert "Error" not in present.not_scored_reason(error)


def test_model_score_counts_model_reasons_only():
    words = [{"code": "suspect_word", "term": "cowards", "start": 6, "end": 13}]
    assert present.model_score(words) is None  # the queue showed "1.00" for these
    mixed = words + [{"code": "toxicity", "score": 0.83, "threshold": 0.8},
                     {"code": "insult", "score": 0.61, "threshold": 0.6}]
    assert present.model_score(mixed) == 0.83
    assert present.model_score([{"code": "premoderation"}]) is None
    assert present.model_score(None) is None


@pytest.mark.parametrize("codes, who", [
    (["suspect_word"], "word list"), (["ethnic_slur", "banned_word"], "word list"),
    (["toxicity"], "model"), (["toxicity", "suspect_word"], "model and word list"),
    (["premoderation"], "site policy"), ([], "model"),
])
def test_deciders(codes, who):
    assert present.deciders(codes) == who


def entry(action, to_status=None, reason=None, actor_type="webhook", actor_id=None, **details):
    return SimpleNamespace(action=action, to_status=to_status, from_status="pending", reason=reason,
                           actor_type=actor_type, actor_id=actor_id, details=details,
                           at=datetime(2026, 12, 1, tzinfo=timezone.utc))


def test_history_says_who_decided_in_words():
    lines = present.history_lines([
        entry("comment.received", "pending", actor_type="publisher", actor_id="news", revision=1),
        entry("comment.assessed", "pending", reason=ISSUE_EXAMPLE),
        entry("comment.assessed", "queued", reason="suspect_word", actor_type="worker"),
        entry("comment.assessed", "queued", reason="toxicity, suspect_word"),
        entry("comment.moderated", "rejected", reason="spam", actor_type="user", actor_id="mod@news.example"),
        entry("comment.decision_undone", "queued", actor_type="user", actor_id="mod@news.example"),
    ])
    assert [(line.text, line.by, line.detail) for line in lines] == [
        ("Received (version 1)", "publisher news", ""),
        ("Not scored yet", "the scorer", "the model could not be downloaded (this server may have no internet access)"),
        ("Held for review", "word list", "Suspect word"),
        ("Held for review", "model and word list", "Toxicity, Suspect word"),
        ("Rejected", "mod@news.example", "Spam"),
        ("Decision undone", "mod@news.example", "Held for review again"),
    ]
    assert not any("URLError" in line.detail for line in lines)
