"""Reduced precision with fp32 confirmation: scores near a threshold are computed again at fp32."""

import pytest

from moderation.policy import DEFAULT_POLICY, Policy, Threshold
from moderation.scoring import LazyScorer
from moderation.scoring.assess import assess
from moderation.scoring.boundaries import policy_boundaries
from moderation.scoring.detoxify_backend import _length_chunks
from moderation.scoring.settings import ScorerSettings

TEXTS = ["you idiot", "stupid people", "a good article about the park", "ok then",
         "The government should call the international organization and the UN " * 3]


def test_auto_is_bf16_only_where_the_cpu_has_it(monkeypatch):
    from moderation.scoring import settings

    monkeypatch.setattr(settings, "native_bf16", lambda: True)
    assert ScorerSettings().effective_precision == "bf16" and ScorerSettings().confirms
    assert ScorerSettings(device="cuda").effective_precision == "fp32"
    assert not ScorerSettings(confirm_margin=0).confirms
    assert not ScorerSettings(precision="fp32").confirms
    monkeypatch.setattr(settings, "native_bf16", lambda: False)
    assert ScorerSettings().effective_precision == "fp32" and not ScorerSettings().confirms
    with pytest.raises(ValueError, match="SCORING_CONFIRM_MARGIN"):
        ScorerSettings(confirm_margin=1.5)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_scores_near_a_threshold_are_fp32s(tiny_settings, precision):
    exact = LazyScorer(tiny_settings(precision="fp32")).score(TEXTS)
    raw = LazyScorer(tiny_settings(precision=precision, confirm_margin=0)).score(TEXTS)
    guarded = LazyScorer(tiny_settings(precision=precision, batch_max=1))
    assert raw != exact  # reduced precision does move the scores here (else this test shows nothing)

    # A threshold right at each text's fp32 toxicity: every text is near one, so all are confirmed.
    everywhere = {"toxicity": tuple(s["toxicity"] for s in exact)}
    assert guarded.score(TEXTS, everywhere) == exact
    # No boundaries (or none near): the reduced-precision scores stand, computed once.
    before = guarded._backend.confirmed
    assert guarded.score(TEXTS) == raw
    assert guarded.score(TEXTS, {"toxicity": (2.0,)}) == raw
    assert guarded._backend.confirmed == before


def test_confirmation_keeps_decisions_at_fp32s_where_thresholds_sit_on_the_scores(tiny_settings):
    exact = LazyScorer(tiny_settings(precision="fp32"))
    guarded = LazyScorer(tiny_settings(precision="bf16"))
    fp32_scores = exact.score(TEXTS)
    # Thresholds just above each score at fp32: a bf16 rounding down or up flips the decision
    # unless the score is confirmed.
    for text, scores in zip(TEXTS, fp32_scores):
        level = min(1.0, scores["toxicity"] + 1e-4)
        policy = Policy(thresholds={**DEFAULT_POLICY.thresholds, "toxicity": Threshold(review=level, reject=None)})
        [a] = assess([text], policy, exact, languages=["en"])
        [b] = assess([text], policy, guarded, languages=["en"])
        assert (a.status, a.scores) == (b.status, b.scores)


def test_without_margin_no_fp32_copy_is_kept(tiny_settings):
    fast = LazyScorer(tiny_settings(precision="bf16", confirm_margin=0))
    fast.ensure_loaded()
    assert fast._backend.exact_model is None and fast.info()["confirms_at_fp32"] is False
    guarded = LazyScorer(tiny_settings(precision="bf16"))
    guarded.ensure_loaded()
    assert guarded._backend.exact_model is not None and guarded.info()["confirms_at_fp32"] is True
    assert next(guarded._backend.exact_model.parameters()).dtype != next(guarded._backend.model.parameters()).dtype


def test_policy_boundaries_are_the_levels_set():
    policy = Policy(thresholds={"toxicity": Threshold(0.8, 0.95), "obscene": Threshold(0.8, None),
                                "threat": Threshold(None, None)})
    assert policy_boundaries(policy) == {"toxicity": (0.8, 0.95), "obscene": (0.8,)}


def test_forward_passes_keep_padding_small():
    lengths = [10, 11, 12, 40, 41, 200]
    chunks = list(_length_chunks(sorted(range(6), key=lengths.__getitem__), lengths, 16))
    assert chunks == [[0, 1, 2], [3, 4], [5]]
    assert list(_length_chunks([0, 1, 2], [5, 5, 5], 2)) == [[0, 1], [2]]  # and at most `size` texts
