"""Policy validation, round trip, and the fail-closed decision."""

import json

import pytest

from moderation.policy import DEFAULT_POLICY, Policy, PolicyError, Threshold, decide
from moderation.scoring import Match

SLUR = Match("kike", "ethnic_slur", 4, 8, 3, "en")
BANNED = Match("idiot", "banned_word", 0, 5, 3, "any")
SUSPECT = Match("clown", "suspect_word", 0, 5, 3, "any")
PROFANITY = Match("блядь", "profanity", 0, 5, 1, "ru")
LOW = {"toxicity": 0.1, "severe_toxicity": 0.01, "identity_attack": 0.05, "insult": 0.1, "threat": 0.01,
       "obscene": 0.02, "sexual_explicit": 0.01}


def test_round_trip_is_the_contract_shape():
    data = {"thresholds": {"toxicity": {"review": 0.5, "reject": 0.9}, "identity_attack": {"review": 0.6,
                                                                                        "reject": None}},
            "banned_words": ["idiot"], "suspect_words": ["clown"], "premoderation": False}
    policy = Policy.from_dict(data)
    assert policy.to_dict() == data
    assert Policy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy
    assert Policy.from_dict(DEFAULT_POLICY.to_dict()) == DEFAULT_POLICY


def test_missing_fields_take_defaults():
    policy = Policy.from_dict({})
    assert policy.thresholds == DEFAULT_POLICY.thresholds and policy.banned_words == ()


def test_errors_name_every_failing_field():
    with pytest.raises(PolicyError) as error:
        Policy.from_dict({
            "thresholds": {"toxicity": {"review": 0.9, "reject": 0.5}, "rudeness": {"review": 0.5},
                           "insult": {"review": 1.5, "reject": "high"}, "threat": 0.5},
            "banned_words": "idiot", "suspect_words": ["ok", 3], "premoderation": "yes", "extra": 1,
        })
    errors = error.value.errors
    assert errors["thresholds.toxicity"] == "review (0.9) must not be above reject (0.5)"
    assert errors["thresholds.rudeness"].startswith("unknown category 'rudeness'; expected one of toxicity")
    assert errors["thresholds.insult.review"] == "expected a number from 0 to 1 or null, got 1.5"
    assert errors["thresholds.insult.reject"] == "expected a number from 0 to 1 or null, got 'high'"
    assert errors["thresholds.threat"].startswith("expected {")
    assert errors["banned_words"] == "expected a list of words, got str"
    assert errors["suspect_words[1]"] == "expected a non-empty string, got 3"
    assert errors["premoderation"] == "expected true or false, got 'yes'"
    assert "unknown field" in errors["extra"]
    with pytest.raises(PolicyError, match="expected a JSON object"):
        Policy.from_dict([1])


def test_defaults_follow_published_practice():
    t = DEFAULT_POLICY.thresholds
    assert (t["toxicity"].review, t["identity_attack"].review, t["insult"].review, t["threat"].review,
            t["severe_toxicity"].review) == (0.8, 0.6, 0.6, 0.6, 0.3)
    assert all(th.reject is None or th.reject > th.review for th in t.values())


def test_low_scores_approve():
    decision = decide(LOW, [], DEFAULT_POLICY, language="en", covered_languages=frozenset({"en"}))
    assert (decision.status, decision.reasons, decision.matches) == ("approved", [], [])


def test_thresholds_queue_and_reject_with_reasons():
    queued = decide({**LOW, "identity_attack": 0.74}, [], DEFAULT_POLICY)
    assert queued.status == "queued"
    assert queued.reasons == [{"code": "identity_attack", "score": 0.74, "threshold": 0.6}]
    rejected = decide({**LOW, "toxicity": 0.97, "insult": 0.7}, [], DEFAULT_POLICY)
    assert rejected.status == "rejected"
    assert {"code": "toxicity", "score": 0.97, "threshold": 0.95} in rejected.reasons
    assert {"code": "insult", "score": 0.7, "threshold": 0.6} in rejected.reasons


def test_word_lists_and_slurs():
    assert decide(LOW, [BANNED], DEFAULT_POLICY).status == "rejected"
    assert decide(LOW, [SUSPECT], DEFAULT_POLICY).status == "queued"
    slur = decide(LOW, [SLUR], DEFAULT_POLICY)
    assert slur.status == "queued"
    assert slur.reasons == [{"code": "ethnic_slur", "term": "kike", "start": 4, "end": 8, "severity": 3}]
    assert slur.matches == [SLUR.to_dict()]
    profanity = decide(LOW, [PROFANITY], DEFAULT_POLICY)
    assert profanity.status == "approved" and profanity.matches == [PROFANITY.to_dict()]


def test_fails_closed_without_scores():
    assert decide(None, [], DEFAULT_POLICY).status == "pending"
    assert decide(None, [PROFANITY], DEFAULT_POLICY).status == "pending"
    assert decide(None, [BANNED], DEFAULT_POLICY).status == "rejected"
    assert decide(None, [SUSPECT], DEFAULT_POLICY).status == "queued"
    assert decide(None, [SLUR], DEFAULT_POLICY).status == "queued"


def test_unsupported_language_goes_to_a_human():
    covered = frozenset({"en"})
    decision = decide(LOW, [], DEFAULT_POLICY, language="hy", covered_languages=covered)
    assert decision.status == "queued"
    assert decision.reasons == [{"code": "unsupported_language", "language": "hy"}]
    # the model's scores mean little there: they may queue, never reject
    assert decide({**LOW, "toxicity": 0.99}, [], DEFAULT_POLICY, language="hy",
                  covered_languages=covered).status == "queued"
    assert decide(LOW, [BANNED], DEFAULT_POLICY, language="hy", covered_languages=covered).status == "rejected"
    assert decide(LOW, [], DEFAULT_POLICY, language=None, covered_languages=covered).status == "approved"


def test_premoderation_queues_everything_not_rejected():
    policy = Policy(DEFAULT_POLICY.thresholds, premoderation=True)
    decision = decide(LOW, [], policy)
    assert (decision.status, decision.reasons) == ("queued", [{"code": "premoderation"}])
    assert decide(LOW, [BANNED], policy).status == "rejected"


def test_without_scores_only_words_leave_pending():
    """DESIGN: only a model score, a word list or a human moves a comment out of `pending`. With the
    scorer down, premoderation and an uncovered language wait for the scores (the worker then
    queues the comment, with them); a word list or the lexicon still decides."""
    premoderated = Policy(DEFAULT_POLICY.thresholds, premoderation=True)
    covered = frozenset({"en"})
    for decision in (decide(None, [], premoderated),
                     decide(None, [], DEFAULT_POLICY, language="hy", covered_languages=covered)):
        assert decision.status == "pending"
    assert decide(None, [SUSPECT], premoderated).status == "queued"
    assert decide(None, [BANNED], premoderated, language="hy", covered_languages=covered).status == "rejected"
    assert decide({**LOW, "toxicity": float("nan")}, [], premoderated).status == "pending"


def test_policy_is_hashable_and_immutable():
    policy = Policy({"toxicity": Threshold(0.5, 0.9)}, ("a",))
    assert hash(policy) == hash(Policy({"toxicity": Threshold(0.5, 0.9)}, ("a",)))
    with pytest.raises(TypeError):
        policy.thresholds["insult"] = Threshold(0.1, 0.2)


@pytest.mark.parametrize("scores", [
    {**LOW, "toxicity": float("nan")},
    {**LOW, "insult": float("inf")},
    {**LOW, "threat": -float("inf")},
    {**LOW, "toxicity": 1.5},
    {**LOW, "toxicity": "0.1"},
    {**LOW, "toxicity": True},
    {},
    {"toxic": 0.01, "identity_hate": 0.01},  # unknown class names: nothing the policy uses
    {key: value for key, value in LOW.items() if key != "identity_attack"},  # a used category missing
], ids=["nan", "inf", "-inf", "above-1", "string", "bool", "empty", "unknown-names", "missing-category"])
def test_unusable_scores_never_approve(scores):
    decision = decide(scores, [], DEFAULT_POLICY)
    assert decision.status == "pending"
    assert decision.unusable_scores.startswith("invalid scores")
    # Word lists still decide, as when the scorer is down.
    assert decide(scores, [BANNED], DEFAULT_POLICY).status == "rejected"
    assert decide(scores, [SUSPECT], DEFAULT_POLICY).status == "queued"


def test_a_category_the_model_does_not_produce_is_not_required():
    # Detoxify's `original` model has no sexual_explicit class.
    original = {key: value for key, value in LOW.items() if key != "sexual_explicit"}
    classes = tuple(original)
    assert decide(original, [], DEFAULT_POLICY, categories=classes).status == "approved"
    assert decide(original, [], DEFAULT_POLICY).status == "pending"  # unknown model: all are required
    missing = {key: value for key, value in original.items() if key != "toxicity"}
    assert decide(missing, [], DEFAULT_POLICY, categories=classes).status == "pending"
    # A category the policy does not use may be missing.
    policy = Policy.from_dict({"thresholds": {"toxicity": {"review": 0.5, "reject": 0.9}}})
    assert decide({"toxicity": 0.1}, [], policy).status == "approved"
