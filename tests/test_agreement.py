"""Agreement with human decisions (pure): precision and recall per policy and category, suggested thresholds."""
from __future__ import annotations

import random

import pytest

from moderation.policy import DEFAULT_POLICY, Policy, decide
from moderation.settings.agreement import CANDIDATES, Label, agreement, flag_level


def _policy(**reviews) -> Policy:
    document = DEFAULT_POLICY.to_dict()
    for name, value in reviews.items():
        document["thresholds"][name]["review"] = value
    return Policy.from_dict(document)


def _insult_labels():
    fine = [Label({"insult": s, "toxicity": 0.1}, harmful=False, machine_status="approved")
            for s in (0.05, 0.1, 0.2, 0.3, 0.4, 0.42)]
    harmful = [Label({"insult": s, "toxicity": 0.2}, harmful=True, machine_status="queued")
               for s in (0.5, 0.55, 0.58, 0.7, 0.8, 0.9)]
    return fine + harmful


def test_suggests_the_level_that_matches_the_moderators_with_the_counts():
    labels = _insult_labels()
    result = agreement(labels, DEFAULT_POLICY, DEFAULT_POLICY)
    # At the default 0.6, three rejected comments (0.5, 0.55, 0.58) slip through.
    assert (result.current.tp, result.current.fp, result.current.fn, result.current.tn) == (3, 0, 3, 6)
    assert result.current.precision == 1.0 and result.current.recall == 0.5
    insult = next(c for c in result.categories if c.category == "insult")
    assert insult.current_level == 0.6 and insult.labels == 12
    suggestion = insult.suggestion
    # Every level in (0.42, 0.5] separates them; the nearest to the present 0.6 is kept.
    assert suggestion.threshold == 0.5
    assert (suggestion.at_suggestion.agreed, suggestion.at_suggestion.disagreed) == (12, 0)
    assert suggestion.at_present.disagreed == 3
    assert suggestion.form_values == {"thresholds.insult.review": 0.5}
    assert result.overturned == {"approved_then_rejected": 0, "rejected_then_approved": 0}
    assert result.overturned_current == {"approved_then_rejected": 3, "rejected_then_approved": 0}


def test_proposed_policy_is_compared_with_the_current_one():
    labels = _insult_labels()
    result = agreement(labels, DEFAULT_POLICY, _policy(insult=0.5))
    assert result.proposed.recall == 1.0 and result.proposed.precision == 1.0
    assert result.current.recall == 0.5
    insult = next(c for c in result.categories if c.category == "insult")
    assert (insult.current_level, insult.proposed_level) == (0.6, 0.5)
    assert insult.proposed.fn == 0 and insult.current.fn == 3


def test_reject_moves_with_a_suggested_review_above_it():
    labels = ([Label({"threat": s}, harmful=False) for s in (0.1, 0.2, 0.3, 0.5, 0.6, 0.93)]
              + [Label({"threat": s}, harmful=True) for s in (0.96, 0.97, 0.98, 0.99)])
    threat = next(c for c in agreement(labels, DEFAULT_POLICY, DEFAULT_POLICY).categories if c.category == "threat")
    assert threat.suggestion.threshold > 0.9
    assert threat.suggestion.form_values["thresholds.threat.reject"] == threat.suggestion.threshold
    assert threat.suggestion.at_suggestion.disagreed == 0
    # Automatic rejections the humans would reverse, per category: the 0.93 one.
    assert threat.wrongly_rejected_current == 1


def test_few_or_one_sided_decisions_get_no_suggestion_and_say_why():
    few = [Label({"insult": 0.9}, harmful=True)] * 3
    insult = next(c for c in agreement(few, DEFAULT_POLICY, DEFAULT_POLICY).categories if c.category == "insult")
    assert insult.suggestion is None and "3 decisions with a score for insult" in insult.why_no_suggestion
    one_sided = [Label({"insult": 0.1 * i}, harmful=True) for i in range(10)]
    insult = next(c for c in agreement(one_sided, DEFAULT_POLICY, DEFAULT_POLICY).categories if c.category == "insult")
    assert insult.suggestion is None and "one way" in insult.why_no_suggestion


def test_overturned_automatic_decisions_and_word_hits():
    slur = [{"term": "kike", "category": "ethnic_slur", "start": 0, "end": 4, "severity": 3, "language": "en"}]
    labels = [
        Label({"toxicity": 0.97}, harmful=False, machine_status="rejected"),   # wrongly rejected
        Label({"toxicity": 0.1}, harmful=True, machine_status="approved"),     # missed
        Label({"toxicity": 0.1}, harmful=True, matches=slur, machine_status="queued"),  # the lexicon flagged it
        Label({}, harmful=True),  # never scored: left out
    ]
    result = agreement(labels, DEFAULT_POLICY, DEFAULT_POLICY)
    assert result.labels == 3
    assert result.overturned == {"approved_then_rejected": 1, "rejected_then_approved": 1}
    assert result.current.tp == 1 and result.current.fp == 1 and result.current.fn == 1
    toxicity = next(c for c in result.categories if c.category == "toxicity")
    assert toxicity.wrongly_rejected_current == 1


def test_extra_labels_about_one_category_count_for_it_only():
    labels = _insult_labels() + [Label({"identity_attack": 0.3}, harmful=True, source="suggestscore",
                                       category="identity_attack")]
    result = agreement(labels, DEFAULT_POLICY, DEFAULT_POLICY)
    assert result.by_source == {"moderator": 12, "suggestscore": 1}
    assert result.current.total == 12  # the whole-policy figures use whole-text labels
    identity = next(c for c in result.categories if c.category == "identity_attack")
    assert identity.labels == 1 and identity.current.fn == 1


def test_the_fast_sweep_equals_deciding_every_label_at_every_level():
    rng = random.Random(7)
    labels = []
    for _ in range(200):
        scores = {name: rng.random() ** 3 for name in ("toxicity", "insult", "identity_attack", "threat")}
        labels.append(Label(scores, harmful=rng.random() < 0.3 + scores["insult"] / 2,
                            language=rng.choice(["en", "en", "fr"])))
    covered = frozenset({"en"})
    result = agreement(labels, DEFAULT_POLICY, DEFAULT_POLICY, covered_languages=covered)
    insult = next(c for c in result.categories if c.category == "insult").suggestion
    best_f1 = 0.0
    for level in CANDIDATES:
        document = DEFAULT_POLICY.to_dict()
        document["thresholds"]["insult"] = {"review": level, "reject": max(level, 0.9)}
        policy = Policy.from_dict(document)
        tp = fp = fn = 0
        for label in labels:
            flagged = decide(label.scores, [], policy, language=label.language, covered_languages=covered,
                             categories=tuple(label.scores)).status != "approved"
            tp += flagged and label.harmful
            fp += flagged and not label.harmful
            fn += (not flagged) and label.harmful
        f1 = 2 * tp / (2 * tp + fp + fn)
        if level == insult.threshold:
            assert (insult.at_suggestion.tp, insult.at_suggestion.fp, insult.at_suggestion.fn) == (tp, fp, fn)
        best_f1 = max(best_f1, f1)
    assert insult.at_suggestion.f1 == pytest.approx(best_f1)


def test_flag_level_is_the_lower_of_review_and_reject():
    from moderation.policy import Threshold

    assert flag_level(Threshold(0.6, 0.9)) == 0.6
    assert flag_level(Threshold(None, 0.9)) == 0.9
    assert flag_level(Threshold(None, None)) is None and flag_level(None) is None
