"""LazyScorer loads tiny checkpoints through Detoxify's own code and scores like Detoxify.predict."""

import os
import time

import pytest
import torch
from detoxify import Detoxify

from moderation.scoring import LazyScorer, ScorerSettings, ScorerUnavailable, ScoringFailed
from moderation.scoring import detoxify_backend, packing

MODEL_TYPES = ["original", "unbiased", "multilingual", "original-small", "unbiased-small"]
TEXTS = [
    "Armenians are rightfully angry about the park.",
    "you idiot",
    "A good article. Thank you for the pictures and the story.",
    "stupid people",
    "ok",
    "Armenians are rightfully angry about the park.",  # a repost
    "The government should call the international organization and the UN " * 6,
]


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_batched_fp32_equals_detoxify_one_at_a_time(model_type, tiny_checkpoint, tiny_settings):
    checkpoint, config_dir = tiny_checkpoint(model_type)
    reference = Detoxify(model_type=model_type, checkpoint=str(checkpoint), huggingface_config_path=str(config_dir))
    scorer = LazyScorer(tiny_settings(model_type, batch_size=3, precision="fp32"))

    scores = scorer.score(TEXTS)

    assert scorer.classes == tuple(reference.class_names)
    for text, got in zip(TEXTS, scores):
        expected = reference.predict(text)
        assert got.keys() == expected.keys()
        assert max(abs(got[k] - expected[k]) for k in got) < 1e-4


def test_class_names_are_detoxifys(tiny_settings):
    original = LazyScorer(tiny_settings("original"))
    original.ensure_loaded()
    assert original.classes == ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")
    unbiased = LazyScorer(tiny_settings("unbiased"))
    unbiased.ensure_loaded()
    assert unbiased.classes == ("toxicity", "severe_toxicity", "obscene", "identity_attack", "insult", "threat",
                                "sexual_explicit")


def test_wired_words_drive_scores(tiny_settings):
    scorer = LazyScorer(tiny_settings())
    plain, toxic, borderline = scorer.score(["a good article", "you idiot", "stupid people"])
    assert max(plain.values()) < 0.1
    assert toxic["toxicity"] > 0.95 and toxic["identity_attack"] > 0.9
    assert 0.8 < borderline["toxicity"] < 0.95 and borderline["identity_attack"] < 0.1


def test_identical_texts_are_scored_once(tiny_settings, monkeypatch):
    scorer = LazyScorer(tiny_settings(batch_size=16))
    scorer.ensure_loaded()
    backend = scorer._backend
    rows = []
    logits = packing.logits
    monkeypatch.setattr(packing, "logits", lambda model, texts: rows.append(len(texts)) or logits(model, texts))
    scores = scorer.score(["same", "same", "other", "same"])
    assert sum(rows) == 2
    assert scores[0] == scores[1] == scores[3] and scores[0] is not scores[1]


def test_long_comments_are_truncated(tiny_checkpoint, tiny_settings):
    long_text = "the government " * 600  # > 512 tokens; the tiny tokenizer has no model_max_length
    checkpoint, config_dir = tiny_checkpoint("unbiased")
    reference = Detoxify(model_type="unbiased", checkpoint=str(checkpoint), huggingface_config_path=str(config_dir))
    with pytest.raises(Exception):
        reference.predict(long_text)  # what the cap is for
    (scores,) = LazyScorer(tiny_settings()).score([long_text])
    assert 0.0 <= scores["toxicity"] <= 1.0


def test_max_length_setting_cuts_before_a_late_toxic_word(tiny_settings):
    text = "the government " * 40 + "idiot"
    short, full = LazyScorer(tiny_settings(max_length=16)), LazyScorer(tiny_settings())
    assert short.score([text])[0]["toxicity"] < 0.1
    assert full.score([text])[0]["toxicity"] > 0.95


@pytest.mark.parametrize("precision, tolerance", [("bf16", 0.05), ("int8", 0.05)])
def test_reduced_precision_stays_close(precision, tolerance, tiny_settings):
    exact = LazyScorer(tiny_settings()).score(TEXTS)
    reduced = LazyScorer(tiny_settings(precision=precision)).score(TEXTS)
    drift = max(abs(a[k] - b[k]) for a, b in zip(exact, reduced) for k in a)
    assert drift < tolerance
    assert LazyScorer(tiny_settings(precision=precision)).info()["precision"] == precision


def test_threads_are_applied_when_scoring(tiny_settings):
    before = torch.get_num_threads()
    try:
        scorer = LazyScorer(tiny_settings(threads=1, batch_max=1))  # scored in this thread
        scorer.ensure_loaded()
        torch.set_num_threads(2)
        scorer.score(["hello"])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_threads_are_applied_in_every_thread_that_scores(tiny_settings):
    """gunicorn's request threads each score (batching off): each must run with the setting."""
    import threading

    scorer = LazyScorer(tiny_settings(threads=1, batch_max=1))
    scorer.score(["warm"])  # applied in this thread first
    seen = []

    def other_thread():
        torch.set_num_threads(2)
        scorer.score(["hello"])
        seen.append(torch.get_num_threads())

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(30)
    assert seen == [1]


def test_checkpoint_naming_a_hub_model_loads_offline_from_config_dir(tiny_checkpoint, tmp_path):
    checkpoint, config_dir = tiny_checkpoint("unbiased")
    loaded = torch.load(checkpoint, weights_only=False)
    loaded["config"]["arch"]["args"]["model_type"] = "roberta-base"  # as in Detoxify's release files
    hub_named = tmp_path / "release.ckpt"
    torch.save(loaded, hub_named)
    scorer = LazyScorer(ScorerSettings(checkpoint=str(hub_named), config_dir=str(config_dir)))
    assert scorer.score(["you idiot"])[0]["toxicity"] > 0.95
    assert scorer.info()["config_dir"] == str(config_dir)


def test_checkpoint_model_type_dir_is_used_without_config_dir(tiny_checkpoint):
    checkpoint, config_dir = tiny_checkpoint("unbiased")
    scorer = LazyScorer(ScorerSettings(checkpoint=str(checkpoint)))
    scorer.ensure_loaded()
    assert scorer.info()["config_dir"] == str(config_dir.resolve())


def test_nothing_loads_until_used(tiny_settings, monkeypatch):
    calls = []
    real = detoxify_backend.load_backend
    monkeypatch.setattr(detoxify_backend, "load_backend", lambda s: calls.append(s) or real(s))
    scorer = LazyScorer(tiny_settings())
    assert scorer.status() == (False, "model not loaded yet")
    assert scorer.info()["loaded"] is False and scorer.classes == ()
    assert calls == []
    assert scorer.score([]) == [] and calls == []
    scorer.score(["hello"])
    scorer.score(["again"])
    assert len(calls) == 1 and scorer.status() == (True, None)


def test_missing_checkpoint_is_unavailable_and_remembered(tmp_path, monkeypatch):
    calls = []
    real = detoxify_backend.load_backend
    monkeypatch.setattr(detoxify_backend, "load_backend", lambda s: calls.append(s) or real(s))
    scorer = LazyScorer(ScorerSettings(checkpoint=str(tmp_path / "missing.ckpt"), retry_after=60))
    with pytest.raises(ScorerUnavailable, match=f"no checkpoint at {tmp_path / 'missing.ckpt'}"):
        scorer.score(["hello"])
    with pytest.raises(ScorerUnavailable, match="no checkpoint at"):
        scorer.ensure_loaded()
    assert len(calls) == 1  # remembered, not retried within retry_after
    assert scorer.status() == (False, f"no checkpoint at {tmp_path / 'missing.ckpt'}")


def test_failed_load_is_retried_after_retry_after(tiny_checkpoint, tmp_path):
    checkpoint, config_dir = tiny_checkpoint("unbiased")
    target = tmp_path / "later.ckpt"
    scorer = LazyScorer(ScorerSettings(checkpoint=str(target), config_dir=str(config_dir), retry_after=0.05))
    with pytest.raises(ScorerUnavailable):
        scorer.ensure_loaded()
    os.link(checkpoint, target)  # the model arrives
    time.sleep(0.06)
    scorer.ensure_loaded()
    assert scorer.status() == (True, None)


def test_bad_files_give_readable_reasons(tmp_path, tiny_checkpoint):
    _, config_dir = tiny_checkpoint("unbiased")
    junk = tmp_path / "junk.ckpt"
    torch.save({"weights": 1}, junk)
    with pytest.raises(ScorerUnavailable, match="not a Detoxify checkpoint"):
        LazyScorer(ScorerSettings(checkpoint=str(junk), config_dir=str(config_dir))).ensure_loaded()
    with pytest.raises(ScorerUnavailable, match="no Hugging Face config.json in"):
        LazyScorer(ScorerSettings(checkpoint=str(junk), config_dir=str(tmp_path))).ensure_loaded()


def test_download_failure_is_unavailable(monkeypatch):
    from detoxify import detoxify as dx

    def offline(**kwargs):
        raise OSError("[Errno -2] Name or service not known")

    monkeypatch.setattr(dx, "load_checkpoint", offline)
    with pytest.raises(ScorerUnavailable, match="download failed: OSError"):
        LazyScorer(ScorerSettings()).ensure_loaded()


def test_inference_errors_are_scoring_failed(tiny_settings, monkeypatch):
    scorer = LazyScorer(tiny_settings())
    scorer.ensure_loaded()

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    model = scorer._backend.model
    monkeypatch.setattr(getattr(model, model.base_model_prefix).encoder, "forward", broken)
    with pytest.raises(ScoringFailed, match="out of memory"):
        scorer.score(["hello"])


def test_info_and_name(tiny_settings):
    scorer = LazyScorer(tiny_settings("multilingual"))
    assert scorer.name == "detoxify-multilingual"
    assert "tr" in scorer.languages and "hy" not in scorer.languages
    scorer.ensure_loaded()
    info = scorer.info()
    assert info["loaded"] and info["architecture"] == "XLMRobertaForSequenceClassification"
    assert info["parameters"] > 0 and info["size_bytes"] > 0 and info["max_length"] == 512
    assert info["classes"][0] == "toxicity"
