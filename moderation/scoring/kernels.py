"""Which matrix-product library runs the fp32 linear layers: torch's default, or oneDNN.

Nearly all of an encoder's time is in its linear layers. torch's x86 build hands fp32
products to Intel's MKL, which on some CPUs (AMD's, measured here: an EPYC with AVX2 ran a
768x3072 layer at 42 GFLOP/s through MKL and 70 through oneDNN) takes a slower path than
oneDNN, the library torch ships for the same work and already uses at bf16; on others (a
Zen 3 EPYC, measured too) MKL is 1.1 to 1.2 times as fast as oneDNN. The results agree to
float rounding (about 1e-6). So with `SCORING_KERNEL=auto` (the default) the loader times both
on the model's own layer shapes (each distinct shape, weighted by how many layers have it,
the two libraries alternating so that a machine slowing down mid-way hurts neither), checks
that they agree, and keeps oneDNN for the fp32 weights only where it is clearly faster on this
machine; `torch` and `onednn` force one.

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
# The layer shapes timed: those with the most multiply-adds in the model (an encoder has three
# or four; a classifier head's are too small to matter).
_MAX_SHAPES = 4


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


def _fp32_linears(model: Any) -> list[Any]:
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.weight.dtype is torch.float32]


def _shapes(model: Any) -> list[tuple[Any, int]]:
    """(one layer of each shape, how many layers have it), the most multiply-adds in all first."""
    by_shape: dict[tuple[int, int], list[Any]] = {}
    for layer in _fp32_linears(model):
        by_shape.setdefault((layer.in_features, layer.out_features), []).append(layer)
    ranked = sorted(by_shape.values(), key=lambda same: len(same) * same[0].weight.numel(), reverse=True)
    return [(same[0], len(same)) for same in ranked[:_MAX_SHAPES]]


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    for _ in range(_REPEATS):
        call()
    return (time.perf_counter() - started) / _REPEATS


def _best_times(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[float, float]:
    """Best time of each over _ROUNDS rounds, the two alternating (after one untimed call each,
    which pays for first touches of the weights)."""
    first()
    second()
    best_first = best_second = float("inf")
    for _ in range(_ROUNDS):
        best_first = min(best_first, _timed(first))
        best_second = min(best_second, _timed(second))
    return best_first, best_second


def choose(model: Any, wanted: str, *, threads: int | None = None) -> Choice:
    """Decides the kernel for `model`'s fp32 linear layers (`wanted`: one of KERNELS).

    `auto` times torch's product and oneDNN's, alternating, on each of the model's main layer
    shapes with the scorer's thread count, adds the best times up weighted by how many layers
    have each shape, and keeps oneDNN when it agrees with torch and takes at most FASTER_BY of
    its time. Raises ValueError when `onednn` is asked for and this torch has none.
    """
    if wanted == "torch":
        return Choice("torch", "SCORING_KERNEL=torch")
    if not available():
        if wanted == "onednn":
            raise ValueError("SCORING_KERNEL=onednn: this torch build has no oneDNN linear operator")
        return Choice("torch", "this torch build has no oneDNN linear operator")
    if wanted == "onednn":
        return Choice("onednn", "SCORING_KERNEL=onednn")
    shapes = _shapes(model)
    if not shapes:
        return Choice("torch", "no fp32 linear layer")
    import torch
    from torch.nn.functional import linear

    previous = torch.get_num_threads()
    generator = torch.Generator().manual_seed(0)
    reference = candidate = 0.0
    try:
        if threads:
            torch.set_num_threads(threads)
        with torch.inference_mode():
            for layer, count in shapes:
                probe = torch.randn(_PROBE_TOKENS, layer.in_features, generator=generator)
                expected = linear(probe, layer.weight, layer.bias)
                try:
                    got = _linear(probe, layer.weight, layer.bias)
                except Exception as exc:  # a build whose operator refuses these tensors
                    return Choice("torch", f"oneDNN failed on this model: {exc}")
                tolerance = 1e-4 * max(1.0, float(expected.abs().max()))
                if got.shape != expected.shape or float((got - expected).abs().max()) > tolerance:
                    return Choice("torch", "oneDNN's products differ from torch's on this machine")
                with_torch, with_onednn = _best_times(
                    lambda: linear(probe, layer.weight, layer.bias),  # noqa: B023 (called in this iteration)
                    lambda: _linear(probe, layer.weight, layer.bias))  # noqa: B023
                reference += count * with_torch
                candidate += count * with_onednn
    finally:
        torch.set_num_threads(previous)
    ratio = candidate / reference if reference > 0 else 1.0
    layers = ", ".join(f"{count} of {layer.in_features}x{layer.out_features}" for layer, count in shapes)
    measured = f"oneDNN took {ratio:.2f}x torch's time on the model's linear layers: {layers}"
    if ratio <= FASTER_BY:
        return Choice("onednn", measured)
    return Choice("torch", measured)


def apply(models: list[Any], wanted: str, *, threads: int | None = None) -> Choice:
    """Chooses (on the first model) and applies the kernel to every fp32 model given."""
    fp32 = [m for m in models if m is not None and _fp32_linears(m)]
    if not fp32:
        return Choice("torch", "no fp32 weights")
    choice = choose(fp32[0], wanted, threads=threads)
    if choice.kernel == "onednn":
        for model in {id(m): m for m in fp32}.values():
            use_onednn(model)
    logger.info("fp32 linear layers run through %s (%s)", "oneDNN" if choice.kernel == "onednn" else "torch",
                choice.reason)
    return choice
