"""Loads a Detoxify checkpoint through Detoxify's own loader and scores texts in length-sorted batches."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import kernels, packing
from .boundaries import Boundaries
from .cores import CoreLedger
from .errors import ScorerUnavailable
from .settings import ScorerSettings, native_bf16

logger = logging.getLogger(__name__)

# detoxify.load_checkpoint standardises these names; the same mapping is applied here
# when the checkpoint is read directly (see _load_local).
_STANDARD_NAMES = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}


# One forward pass holds texts whose padded length stays within this factor of their real
# tokens: padding costs as much as text, and comments' lengths vary several-fold.
_PADDING_SLACK = 1.25


class DetoxifyBackend:
    """A loaded Detoxify model; not thread-safe by itself (LazyScorer serialises loading).

    `model` runs at the configured precision. At bf16 or int8 with a confirmation margin,
    `exact_model` keeps the fp32 weights: scores that land near a threshold are computed
    again with it, so reduced precision changes speed, not decisions (unless it moves a
    score by more than the margin, which `moderation model compare` measures).
    """

    def __init__(self, settings: ScorerSettings, model: Any, tokenizer: Any, class_names: Sequence[str],
                 source: str, config_dir: str | None, parameters: int, exact_model: Any = None,
                 kernel: kernels.Choice | None = None) -> None:
        self.settings = settings
        self.model = model
        self.exact_model = exact_model
        self.tokenizer = tokenizer
        self.class_names = tuple(class_names)
        self.source = source
        self.config_dir = config_dir
        self.parameters = parameters
        self.kernel = kernel or kernels.Choice("torch", "not chosen")
        self.max_length = min(settings.max_length, _position_limit(model.config))
        # Texts laid end to end, no padding (packing.py); padded, length-bucketed passes otherwise.
        self.packed = packing.supports(model)
        if self.packed:
            for each in {id(m): m for m in (model, exact_model) if m is not None}.values():
                packing.prepare(each)
        self._threads_applied = threading.local()
        self.confirmed = 0  # texts computed again at fp32
        self.on_confirmed: Callable[[int], None] | None = None  # told of each such batch (metrics)
        # Under `moderation serve`: the machine's cores, shared with its other processes; each
        # pass runs on the threads it holds (its own share, and idle processes' shares).
        self.cores: CoreLedger | None = None
        self.on_lent: Callable[[], None] | None = None  # told of each pass that borrowed cores (metrics)

    def score(self, texts: Sequence[str], boundaries: Sequence[Boundaries | None] | None = None, *,
              exact: bool = False) -> list[dict[str, float]]:
        """Scores texts; identical texts are scored once, batches hold texts of similar token length.

        boundaries[i]: the thresholds that decide texts[i]; a reduced-precision score within
        the confirmation margin of one is replaced by its fp32 score. exact: fp32 only (the
        reference `model compare` measures against).
        """
        if exact and self.exact_model is None and self.settings.effective_precision != "fp32":
            raise RuntimeError("no fp32 weights kept (SCORING_CONFIRM_MARGIN is 0)")
        if self.cores is None:
            self._apply_threads()
            return self._score(texts, boundaries, exact)
        with self.cores.pass_threads() as threads:
            _set_threads(threads)
            if threads > self.cores.threads_per_slot and self.on_lent is not None:
                with contextlib.suppress(Exception):  # metrics must never stop scoring
                    self.on_lent()
            return self._score(texts, boundaries, exact)

    def _score(self, texts: Sequence[str], boundaries: Sequence[Boundaries | None] | None,
               exact: bool) -> list[dict[str, float]]:
        model = self.exact_model if exact and self.exact_model is not None else self.model
        unique = list(dict.fromkeys(texts))
        scores = self._forward(model, unique)
        if boundaries is not None and self.exact_model is not None and not exact:
            margin = self.settings.confirm_margin
            near: dict[str, None] = {}
            for text, bounds in zip(texts, boundaries):
                if bounds and text not in near and _near(scores[text], bounds, margin):
                    near[text] = None
            if near:
                scores.update(self._forward(self.exact_model, list(near)))
                self.confirmed += len(near)
                if self.on_confirmed is not None:
                    with contextlib.suppress(Exception):  # metrics must never stop scoring
                        self.on_confirmed(len(near))
        return [dict(scores[text]) for text in texts]

    def _forward(self, model: Any, unique: list[str]) -> dict[str, dict[str, float]]:
        import torch

        # Explicit max_length: a tokenizer dir without model_max_length would not truncate,
        # and the position embeddings stop at 512.
        encoded = self.tokenizer(unique, truncation=True, max_length=self.max_length)
        lengths = [len(ids) for ids in encoded["input_ids"]]
        order = sorted(range(len(unique)), key=lengths.__getitem__)
        scores: dict[str, dict[str, float]] = {}
        n_classes = len(self.class_names)
        size = self.settings.batch_size
        chunks = (_chunks(order, size) if self.packed else _length_chunks(order, lengths, size))
        with torch.inference_mode():
            for chunk in chunks:
                if self.packed:
                    logits = packing.logits(model, [encoded["input_ids"][i] for i in chunk])
                else:
                    features = {key: [encoded[key][i] for i in chunk] for key in encoded.keys()}
                    batch = self.tokenizer.pad(features, return_tensors="pt").to(model.device)
                    logits = model(**batch)[0]
                probs = torch.sigmoid(logits.float())[:, :n_classes].cpu().tolist()
                for i, row in zip(chunk, probs):
                    scores[unique[i]] = dict(zip(self.class_names, row))
        return scores

    def _apply_threads(self) -> None:
        # Set in each thread that scores, in the process that scores: torch's setting does not
        # survive a fork, and under OpenMP it is per thread (a gunicorn request thread that had
        # not set it ran with one thread per core, whatever the setting).
        threads = self.settings.threads
        if threads and getattr(self._threads_applied, "pid", None) != os.getpid():
            import torch

            torch.set_num_threads(threads)
            self._threads_applied.pid = os.getpid()

    def info(self) -> dict[str, Any]:
        size = None
        with contextlib.suppress(OSError):
            size = os.path.getsize(self.source)
        return {
            "classes": list(self.class_names),
            "source": self.source,
            "config_dir": self.config_dir,
            "architecture": type(self.model).__name__,
            "parameters": self.parameters,
            "size_bytes": size,
            "max_length": self.max_length,
            "runs_at": self.settings.effective_precision,
            "packed": self.packed,
            "confirms_at_fp32": self.exact_model is not None,
            "fp32_linear_kernel": self.kernel.kernel,
            "fp32_linear_kernel_reason": self.kernel.reason,
        }


def _set_threads(threads: int) -> None:
    import torch

    if torch.get_num_threads() != threads:  # per thread under OpenMP: set in the thread that scores
        torch.set_num_threads(threads)


def load_backend(settings: ScorerSettings) -> DetoxifyBackend:
    """Loads the configured model or raises ScorerUnavailable with the reason."""
    if settings.checkpoint is not None:
        _check_local_files(settings)
    try:
        import torch
        import transformers
        from detoxify import detoxify as dx
    except ImportError as exc:
        raise ScorerUnavailable(f"Detoxify is not installed: {exc}") from exc
    transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bars in worker logs

    if settings.checkpoint is None:
        try:
            model, tokenizer, class_names = dx.load_checkpoint(model_type=settings.model_type, device=settings.device)
        except Exception as exc:  # urllib, hub and OS errors all mean the same here
            raise ScorerUnavailable(f"download failed: {_one_line(exc)}") from exc
        source, config_dir = hub_cache_path(dx.MODEL_URLS[settings.model_type]), None
    else:
        model, tokenizer, class_names, config_dir = _load_local(settings, dx, torch)
        source = str(Path(settings.checkpoint).resolve())

    parameters = sum(p.numel() for p in model.parameters())
    if settings.precision == "bf16" and settings.device.startswith("cpu") and not native_bf16():
        logger.warning("SCORING_PRECISION=bf16 on a CPU without native bf16 (no amx_bf16 or avx512_bf16 "
                       "flag): torch emulates it, several times slower than fp32; consider auto or int8")
    model = model.to(settings.device).eval()
    exact = model if settings.confirms else None
    fast = _apply_precision(model, settings.effective_precision, copy=exact is not None)
    kernel = kernels.Choice("torch", f"device {settings.device}")
    if settings.device.startswith("cpu"):
        try:
            kernel = kernels.apply([exact, fast], settings.kernel, threads=settings.threads)
        except ValueError as exc:
            raise ScorerUnavailable(str(exc)) from exc
    return DetoxifyBackend(settings, fast, tokenizer, class_names, source, config_dir, parameters, exact, kernel)


def _check_local_files(settings: ScorerSettings) -> None:
    if not Path(settings.checkpoint).is_file():
        raise ScorerUnavailable(f"no checkpoint at {settings.checkpoint}")
    if settings.config_dir is not None and not (Path(settings.config_dir) / "config.json").is_file():
        raise ScorerUnavailable(f"no Hugging Face config.json in {settings.config_dir}")


def _load_local(settings: ScorerSettings, dx: Any, torch: Any) -> tuple[Any, Any, list[str], str | None]:
    # torch.load unpickles (weights_only=False is what Detoxify's files need): the
    # checkpoint path is operator configuration, a trusted path.
    try:
        loaded = torch.load(settings.checkpoint, map_location=settings.device, weights_only=False)
        args = dict(loaded["config"]["arch"]["args"])
        state_dict = loaded["state_dict"]
        class_names = [_STANDARD_NAMES.get(c, c) for c in loaded["config"]["dataset"]["args"]["classes"]]
    except (KeyError, TypeError) as exc:
        raise ScorerUnavailable(f"{settings.checkpoint} is not a Detoxify checkpoint (missing {exc})") from exc
    except Exception as exc:
        raise ScorerUnavailable(f"cannot read checkpoint {settings.checkpoint}: {_one_line(exc)}") from exc
    config_dir = settings.config_dir
    if config_dir is None and Path(args["model_type"]).is_dir():
        config_dir = args["model_type"]  # written so by `moderation model download`
    if config_dir is not None:
        # Detoxify 0.5.4 calls config_class.from_pretrained(model_type) even when a config
        # path is given, which reaches the hub (23 s of retries offline): point it at the dir.
        args["model_type"] = str(config_dir)
    try:
        with _hub_offline(config_dir is not None):
            model, tokenizer = dx.get_model_and_tokenizer(
                **args, state_dict=state_dict, huggingface_config_path=config_dir
            )
    except Exception as exc:
        hint = "" if config_dir else " (set DETOXIFY_CONFIG_DIR to load without the Hugging Face hub)"
        raise ScorerUnavailable(f"cannot load {settings.checkpoint}: {_one_line(exc)}{hint}") from exc
    return model, tokenizer, class_names, config_dir


@contextlib.contextmanager
def _hub_offline(enabled: bool) -> Iterator[None]:
    """Makes huggingface_hub refuse HTTP while local files are loaded, so nothing waits on a network."""
    if not enabled:
        yield
        return
    from huggingface_hub import constants

    previous = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = previous


def _apply_precision(model: Any, precision: str, *, copy: bool = False) -> Any:
    """The model at `precision`; copy: leave `model` itself at fp32 (it confirms near-threshold scores)."""
    import copy as copying

    import torch

    if precision == "bf16":
        return (copying.deepcopy(model) if copy else model).to(torch.bfloat16)
    if precision == "int8":
        from torch.ao.quantization import quantize_dynamic

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao deprecation notice; the API still works
            return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


def _position_limit(config: Any) -> int:
    positions = getattr(config, "max_position_embeddings", 512)
    if config.model_type in ("roberta", "xlm-roberta"):
        positions -= (config.pad_token_id or 0) + 1  # positions start after the padding index
    return positions


def hub_cache_path(url: str) -> str:
    """Where torch.hub keeps a downloaded release checkpoint (Detoxify downloads through it)."""
    import torch

    return os.path.join(torch.hub.get_dir(), "checkpoints", url.rsplit("/", 1)[-1])


def _near(scores: Mapping[str, float], boundaries: Boundaries, margin: float) -> bool:
    for category, levels in boundaries.items():
        value = scores.get(category)
        if value is not None and any(abs(value - level) < margin for level in levels):
            return True
    return False


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _length_chunks(order: list[int], lengths: list[int], size: int) -> Iterator[list[int]]:
    """Consecutive runs of `order` (sorted by length) of at most `size` texts whose padding stays small."""
    chunk: list[int] = []
    tokens = 0
    for i in order:
        # Sorted ascending: the chunk pads to the newest text's length.
        if chunk and (len(chunk) >= size or lengths[i] * (len(chunk) + 1) > _PADDING_SLACK * (tokens + lengths[i])):
            yield chunk
            chunk, tokens = [], 0
        chunk.append(i)
        tokens += lengths[i]
    if chunk:
        yield chunk


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
