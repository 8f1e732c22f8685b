"""The fp32 linear layers' library: oneDNN where it is faster, with torch's scores either way."""

import time

import pytest
import torch

from moderation.scoring import LazyScorer, ScorerUnavailable, kernels
from moderation.scoring.settings import ScorerSettings

TEXTS = ["you idiot", "stupid people", "a good article about the park", "ok then",
         "The government should call the international organization and the UN " * 3]

needs_onednn = pytest.mark.skipif(not kernels.available(), reason="this torch build has no oneDNN linear operator")


def _switched(model) -> int:
    return sum(type(m).__name__ == "OneDnnLinear" for m in model.modules())


@needs_onednn
@pytest.mark.parametrize("model_type", ["original", "unbiased", "multilingual", "original-small"])
def test_onednn_gives_torchs_scores(tiny_settings, model_type):
    reference = LazyScorer(tiny_settings(model_type, precision="fp32", kernel="torch"))
    onednn = LazyScorer(tiny_settings(model_type, precision="fp32", kernel="onednn"))
    expected, got = reference.score(TEXTS), onednn.score(TEXTS)
    for a, b in zip(expected, got):
        assert a.keys() == b.keys()
        assert all(abs(a[k] - b[k]) < 1e-5 for k in a)
    assert onednn.info()["fp32_linear_kernel"] == "onednn"
    assert reference.info()["fp32_linear_kernel"] == "torch"
    model = onednn._backend.model
    assert _switched(model) == sum(isinstance(m, torch.nn.Linear) for m in model.modules()) > 0
    assert _switched(reference._backend.model) == 0
    # Same parameters, nothing copied: forked workers keep sharing them.
    assert model.state_dict().keys() == reference._backend.model.state_dict().keys()


@needs_onednn
@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_only_the_fp32_weights_change_library(tiny_settings, precision):
    scorer = LazyScorer(tiny_settings(precision=precision, kernel="onednn"))
    scorer.ensure_loaded()
    assert _switched(scorer._backend.exact_model) > 0  # the fp32 copy that confirms
    assert _switched(scorer._backend.model) == 0


@needs_onednn
def test_outside_inference_the_layer_is_torchs():
    layer = torch.nn.Linear(8, 4)
    kernels.use_onednn(torch.nn.Sequential(layer))
    assert type(layer).__name__ == "OneDnnLinear"
    x = torch.randn(3, 8, requires_grad=True)
    layer(x).sum().backward()  # oneDNN's operator has no gradient: torch's path must have run
    assert x.grad is not None and x.grad.shape == x.shape
    with torch.inference_mode():
        assert torch.allclose(layer(x.detach()), torch.nn.functional.linear(x.detach(), layer.weight, layer.bias),
                              atol=1e-6)


def _slowed(function, seconds: float):
    def slow(*args, **kwargs):
        time.sleep(seconds)
        return function(*args, **kwargs)

    return slow


@needs_onednn
def test_auto_keeps_the_faster_library(monkeypatch):
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.Linear(256, 64))
    monkeypatch.setattr(kernels, "_linear", _slowed(kernels._linear, 0.01))
    slower = kernels.choose(model, "auto")
    assert slower.kernel == "torch" and "took" in slower.reason
    monkeypatch.undo()
    monkeypatch.setattr(torch.nn.functional, "linear", _slowed(torch.nn.functional.linear, 0.01))
    faster = kernels.choose(model, "auto")
    assert faster.kernel == "onednn" and "256" in faster.reason
    monkeypatch.undo()
    assert _switched(model) == 0  # choosing changes nothing; apply does


@needs_onednn
def test_auto_weighs_every_layer_shape_not_only_the_largest(monkeypatch):
    # The largest layer is faster through oneDNN, but ten smaller ones are slower there: the
    # model as a whole is faster through torch.
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), *[torch.nn.Linear(64, 64) for _ in range(10)])
    real_onednn, real_torch = kernels._linear, torch.nn.functional.linear

    def onednn(x, weight, bias):
        if weight.shape == (64, 64):
            time.sleep(0.004)
        return real_onednn(x, weight, bias)

    def torchs(x, weight, bias=None):
        if weight.shape == (256, 64):
            time.sleep(0.004)
        return real_torch(x, weight, bias)

    monkeypatch.setattr(kernels, "_linear", onednn)
    monkeypatch.setattr(torch.nn.functional, "linear", torchs)
    choice = kernels.choose(model, "auto")
    assert choice.kernel == "torch"
    assert "10 of 64x64" in choice.reason and "1 of 64x256" in choice.reason


@needs_onednn
def test_auto_refuses_products_that_differ(monkeypatch):
    model = torch.nn.Sequential(torch.nn.Linear(16, 32))
    real = kernels._linear
    monkeypatch.setattr(kernels, "_linear", lambda x, w, b: real(x, w, b) + 0.5)
    choice = kernels.choose(model, "auto")
    assert choice.kernel == "torch" and "differ" in choice.reason


def test_without_onednn_auto_is_torch_and_onednn_is_refused(monkeypatch, tiny_settings):
    monkeypatch.setattr(kernels, "available", lambda: False)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32))
    assert kernels.choose(model, "auto").kernel == "torch"
    assert kernels.choose(model, "torch").kernel == "torch"
    with pytest.raises(ValueError, match="SCORING_KERNEL=onednn"):
        kernels.choose(model, "onednn")
    scorer = LazyScorer(tiny_settings(precision="fp32", kernel="onednn"))
    with pytest.raises(ScorerUnavailable, match="no oneDNN"):
        scorer.score(["hello"])
    fallback = LazyScorer(tiny_settings(precision="fp32"))
    fallback.ensure_loaded()
    assert fallback.info()["fp32_linear_kernel"] == "torch"
    assert "no oneDNN" in fallback.info()["fp32_linear_kernel_reason"]


def test_the_setting_is_checked():
    assert ScorerSettings().kernel == "auto"
    assert ScorerSettings.from_mapping({"SCORING_KERNEL": " onednn "}).kernel == "onednn"
    with pytest.raises(ValueError, match="SCORING_KERNEL: expected one of auto, torch, onednn, got 'mkl'"):
        ScorerSettings.from_mapping({"SCORING_KERNEL": "mkl"})


def test_bf16_without_native_support_is_warned_about(monkeypatch, tiny_settings, caplog):
    from moderation.scoring import detoxify_backend

    monkeypatch.setattr(detoxify_backend, "native_bf16", lambda: False)
    with caplog.at_level("WARNING", logger="moderation.scoring.detoxify_backend"):
        LazyScorer(tiny_settings(precision="bf16")).ensure_loaded()
    assert "without native bf16" in caplog.text
    caplog.clear()
    monkeypatch.setattr(detoxify_backend, "native_bf16", lambda: True)
    with caplog.at_level("WARNING", logger="moderation.scoring.detoxify_backend"):
        LazyScorer(tiny_settings(precision="bf16")).ensure_loaded()
    assert "without native bf16" not in caplog.text
