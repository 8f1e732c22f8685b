"""Packed forward passes (texts end to end, attention per text) score as padded ones do."""

import pytest
import torch

from moderation.scoring import LazyScorer
from moderation.scoring import packing

MODEL_TYPES = ["original", "unbiased", "multilingual", "original-small", "unbiased-small"]
TEXTS = ["ok", "you idiot", "A good article. Thank you for the pictures and the story.",
         "stupid people", "The government should call the international organization and the UN " * 5]


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_packed_scores_equal_padded_and_single(model_type, tiny_settings):
    scorer = LazyScorer(tiny_settings(model_type, precision="fp32", batch_max=1))
    packed = scorer.score(TEXTS)
    backend = scorer._backend
    assert backend.packed and backend.info()["packed"] is True
    assert backend.model.config._attn_implementation == packing.ATTENTION

    # The same model, padded the ordinary way (its own attention), one batch and one text at a time.
    backend.model.config._attn_implementation = "sdpa"
    encoded = backend.tokenizer(TEXTS, padding=True, truncation=True, max_length=backend.max_length,
                                return_tensors="pt")
    with torch.inference_mode():
        padded = torch.sigmoid(backend.model(**encoded)[0]).tolist()
        single = [torch.sigmoid(backend.model(**backend.tokenizer([t], return_tensors="pt"))[0])[0].tolist()
                  for t in TEXTS]
    for got, a, b in zip(packed, padded, single):
        values = [got[name] for name in backend.class_names]
        assert max(abs(x - y) for x, y in zip(values, a)) < 1e-5
        assert max(abs(x - y) for x, y in zip(values, b)) < 1e-5


def test_texts_in_one_pass_do_not_see_each_other(tiny_settings):
    scorer = LazyScorer(tiny_settings(precision="fp32", batch_max=1))
    alone = scorer.score(["a calm remark"])[0]
    beside = scorer.score(["a calm remark", "you idiot scum idiot"])[0]
    assert max(abs(alone[k] - beside[k]) for k in alone) < 1e-6


def test_packed_attention_refuses_to_run_without_bounds():
    q = torch.zeros(1, 2, 3, 4)
    with pytest.raises(RuntimeError, match="packed_bounds"):
        packing._attention(None, q, q, q, None)
