"""Which matrix-product library runs the fp32 linear layers: torch's default, or oneDNN.

Nearly all of an encoder's time is in its linear layers. torch's x86 build hands fp32
products to Intel's MKL, which on some CPUs (AMD's, measured here: an EPYC with AVX2 ran a
768x3072 layer at 42 GFLOP/s through MKL and 70 through oneDNN) takes a slower path than
oneDNN, the library torch ships for the same work and already uses at bf16. The results agree
to float rounding (about 1e-6). So with `SCORING_KERNEL=auto` (the default) the loader times
both on the model's own largest layer, checks that they agree, and keeps oneDNN for the fp32
weights only where it is clearly faster on this machine; `torch` and `onednn` force one.

Done by swapping the class of each `torch.nn.Linear` for a subclass whose forward calls
oneDNN's linear operator (the one torch.compile emits for CPU linear layers) on the same
weight tensors: nothing is copied, so forked workers still share the weights, and anything
that is not an fp32 inference call (autograd, another dtype) takes torch's own path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

KERNELS = ("auto", "torch", "onednn")
# oneDNN is kept under `auto` only when it takes at most this share of torch's time.
FASTER_BY = 0.9
# Tokens in the timing input: a typical comment's length (115 tokens on the sample comments).
_PROBE_TOKENS = 128
_ROUNDS, _REPEATS = 3, 3


def available() -> bool:
    """Whether this torch build has oneDNN's linear operator for the CPU."""
    try:
        import torch

        return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except Exception:  # an import or attribute error means not available, whatever its kind
        return False


def _linear(x: Any, weight: Any, bias: Any) -> Any:
    import torch

    flat = x.reshape(-1, x.shape[-1])
    out = torch.ops.mkldnn._linear_pointwise(flat, weight, bias, "none", [], "")
    return out.reshape(*x.shape[:-1], out.shape[-1])


def _onednn_class() -> type:
    import torch

    class OneDnnLinear(torch.nn.Linear):
        """An nn.Linear whose fp32 inference calls run through oneDNN (see the module docstring)."""

        def forward(self, x: Any) -> Any:
            if (x.dtype is torch.float32 and self.weight.dtype is torch.float32 and x.device.type == "cpu"
                    and not torch.is_grad_enabled()):
                return _linear(x, self.weight, self.bias)
            return super().forward(x)

    return OneDnnLinear


_CLASS: type | None = None


def use_onednn(model: Any) -> int:
    """Runs `model`'s fp32 nn.Linear layers through oneDNN; returns how many were switched."""
    import torch

    global _CLASS
    if _CLASS is None:
        _CLASS = _onednn_class()
    switched = 0
    for module in model.modules():
        if type(module) is torch.nn.Linear and module.weight.dtype is torch.float32:
            module.__class__ = _CLASS
            switched += 1
    return switched


@dataclass(frozen=True)
class Choice:
    kernel: str  # "torch" or "onednn"
    reason: str


def _largest_linear(model: Any) -> Any:
    import torch

    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.weight.dtype is torch.float32]
    return max(layers, key=lambda m: m.weight.numel()) if layers else None


def _best_time(call: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(_ROUNDS):
        started = time.perf_counter()
        for _ in range(_REPEATS):
            call()
        best = min(best, (time.perf_counter() - started) / _REPEATS)
    return best


def choose(model: Any, wanted: str, *, threads: int | None = None) -> Choice:
    """Decides the kernel for `model`'s fp32 linear layers (`wanted`: one of KERNELS).

    `auto` times torch's product on the model's largest layer, then oneDNN's, then torch's again
    (its best time counts), with the scorer's thread count, and keeps oneDNN when it agrees with torch and takes at most
    FASTER_BY of its time. Raises ValueError when `onednn` is asked for and this torch has none.
    """
    if wanted == "torch":
        return Choice("torch", "SCORING_KERNEL=torch")
    if not available():
        if wanted == "onednn":
            raise ValueError("SCORING_KERNEL=onednn: this torch build has no oneDNN linear operator")
        return Choice("torch", "this torch build has no oneDNN linear operator")
    if wanted == "onednn":
        return Choice("onednn", "SCORING_KERNEL=onednn")
    layer = _largest_linear(model)
    if layer is None:
        return Choice("torch", "no fp32 linear layer")
    import torch
    from torch.nn.functional import linear

    previous = torch.get_num_threads()
    generator = torch.Generator().manual_seed(0)
    probe = torch.randn(_PROBE_TOKENS, layer.in_features, generator=generator)
    try:
        if threads:
            torch.set_num_threads(threads)
        with torch.inference_mode():
            expected = linear(probe, layer.weight, layer.bias)
            try:
                got = _linear(probe, layer.weight, layer.bias)
            except Exception as exc:  # a build whose operator refuses these tensors
                return Choice("torch", f"oneDNN failed on this model: {exc}")
            tolerance = 1e-4 * max(1.0, float(expected.abs().max()))
            if got.shape != expected.shape or float((got - expected).abs().max()) > tolerance:
                return Choice("torch", "oneDNN's products differ from torch's on this machine")
            reference = _best_time(lambda: linear(probe, layer.weight, layer.bias))
            candidate = _best_time(lambda: _linear(probe, layer.weight, layer.bias))
            reference = min(reference, _best_time(lambda: linear(probe, layer.weight, layer.bias)))
    finally:
        torch.set_num_threads(previous)
    ratio = candidate / reference if reference > 0 else 1.0
    measured = f"oneDNN took {ratio:.2f}x torch's time on a {layer.in_features}x{layer.out_features} layer"
    if ratio <= FASTER_BY:
        return Choice("onednn", measured)
    return Choice("torch", measured)


def apply(models: list[Any], wanted: str, *, threads: int | None = None) -> Choice:
    """Chooses (on the first model) and applies the kernel to every fp32 model given."""
    fp32 = [m for m in models if m is not None and _largest_linear(m) is not None]
    if not fp32:
        return Choice("torch", "no fp32 weights")
    choice = choose(fp32[0], wanted, threads=threads)
    if choice.kernel == "onednn":
        for model in {id(m): m for m in fp32}.values():
            use_onednn(model)
    logger.info("fp32 linear layers run through %s (%s)", "oneDNN" if choice.kernel == "onednn" else "torch",
                choice.reason)
    return choice
