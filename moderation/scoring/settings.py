"""Scorer settings, read from Flask-style configuration keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

MODEL_TYPES = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")
# auto: bf16 where the CPU computes in bf16 natively (AMX or AVX512-BF16), fp32 elsewhere.
PRECISIONS = ("auto", "fp32", "bf16", "int8")
# Which library runs the fp32 linear layers (kernels.py): auto measures both at load.
KERNELS = ("auto", "torch", "onednn")
# CPU flags that mean bf16 matrix products run natively (oneDNN uses them), not emulated.
NATIVE_BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})
# Languages each Detoxify model was trained on (Detoxify README); others go to a human.
MODEL_LANGUAGES: Mapping[str, frozenset[str]] = {
    "original": frozenset({"en"}),
    "unbiased": frozenset({"en"}),
    "original-small": frozenset({"en"}),
    "unbiased-small": frozenset({"en"}),
    "multilingual": frozenset({"en", "fr", "es", "it", "pt", "tr", "ru"}),
}
# position embeddings stop at 512 tokens for every Detoxify architecture
MAX_MODEL_LENGTH = 512

# settings field -> configuration key
CONFIG_KEYS = {
    "model_type": "DETOXIFY_MODEL",
    "checkpoint": "DETOXIFY_CHECKPOINT",
    "config_dir": "DETOXIFY_CONFIG_DIR",
    "device": "DETOXIFY_DEVICE",
    "precision": "SCORING_PRECISION",
    "confirm_margin": "SCORING_CONFIRM_MARGIN",
    "kernel": "SCORING_KERNEL",
    "threads": "SCORING_THREADS",
    "max_length": "SCORING_MAX_LENGTH",
    "batch_size": "SCORING_BATCH_SIZE",
    "retry_after": "SCORER_RETRY_AFTER",
    "batch_window_ms": "BATCH_WINDOW_MS",
    "batch_max": "BATCH_MAX",
    "batch_company_ms": "BATCH_COMPANY_MS",
    "lend_idle_ms": "SCORING_LEND_IDLE_MS",
}


@dataclass(frozen=True)
class ScorerSettings:
    """What to load and how to run it; validated on construction."""

    model_type: str = "unbiased"
    checkpoint: str | None = None
    config_dir: str | None = None
    device: str = "cpu"
    precision: str = "auto"
    threads: int | None = None
    max_length: int = 512
    batch_size: int = 16
    retry_after: float = 60.0
    # Micro-batching across concurrent requests (batching.py): how long the oldest request
    # waits for company (0: none; requests that arrive during a forward pass still share the
    # next one), and the most texts in one forward pass; batch_max 1 turns it off.
    batch_window_ms: float = 0.0
    batch_max: int = 16
    # How long a batch waits for requests announced on their way (a webhook storing its
    # comment); with none announced it does not wait (batching.py).
    batch_company_ms: float = 20.0
    # At bf16 or int8, a score this close to one of the policy's thresholds is computed again
    # at fp32 before it decides anything (0: never; no fp32 copy of the weights is kept).
    confirm_margin: float = 0.02
    # The fp32 linear layers' library: torch's default (MKL on x86), oneDNN, or auto (timed at
    # load on the model's largest layer; oneDNN where clearly faster, as on AMD's CPUs).
    kernel: str = "auto"
    # Under `moderation serve`, a forward pass borrows the cores of the other processes when
    # none of them has scored for this long (scoring/cores.py; 0: never borrow, the default:
    # over HTTP on the 2-core build machine the gain was not consistent, see README Serving).
    lend_idle_ms: float = 0.0

    def __post_init__(self) -> None:
        def bad(field: str, expected: str, value: Any) -> ValueError:
            return ValueError(f"{CONFIG_KEYS[field]}: expected {expected}, got {value!r}")

        if self.model_type not in MODEL_TYPES:
            raise bad("model_type", f"one of {', '.join(MODEL_TYPES)}", self.model_type)
        if self.precision not in PRECISIONS:
            raise bad("precision", f"one of {', '.join(PRECISIONS)}", self.precision)
        if self.precision == "int8" and not self.device.startswith("cpu"):
            # torch's dynamic int8 quantisation runs on the CPU only
            raise bad("precision", "fp32 or bf16 on a non-CPU device", self.precision)
        if self.kernel not in KERNELS:
            raise bad("kernel", f"one of {', '.join(KERNELS)}", self.kernel)
        if not 0 <= self.confirm_margin <= 1:
            raise bad("confirm_margin", "a number from 0 to 1", self.confirm_margin)
        if self.threads is not None and self.threads < 1:
            raise bad("threads", "a positive integer or empty", self.threads)
        if not 1 <= self.max_length <= MAX_MODEL_LENGTH:
            raise bad("max_length", f"an integer from 1 to {MAX_MODEL_LENGTH}", self.max_length)
        if self.batch_size < 1:
            raise bad("batch_size", "a positive integer", self.batch_size)
        if not 0 <= self.batch_window_ms <= 1000:
            raise bad("batch_window_ms", "milliseconds from 0 to 1000", self.batch_window_ms)
        if not 0 <= self.batch_company_ms <= 1000:
            raise bad("batch_company_ms", "milliseconds from 0 to 1000", self.batch_company_ms)
        if not 0 <= self.lend_idle_ms <= 60000:
            raise bad("lend_idle_ms", "milliseconds from 0 to 60000 (0: never lend)", self.lend_idle_ms)
        if self.batch_max < 1:
            raise bad("batch_max", "a positive integer (1: no batching)", self.batch_max)
        if self.retry_after < 0:
            raise bad("retry_after", "a number of seconds >= 0", self.retry_after)

    @property
    def effective_precision(self) -> str:
        """The precision the weights run at: `auto` resolved for this machine."""
        if self.precision != "auto":
            return self.precision
        return "bf16" if self.device.startswith("cpu") and native_bf16() else "fp32"

    @property
    def confirms(self) -> bool:
        """Whether near-threshold scores are computed again at fp32."""
        return self.effective_precision != "fp32" and self.confirm_margin > 0

    @property
    def languages(self) -> frozenset[str]:
        return MODEL_LANGUAGES[self.model_type]

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> "ScorerSettings":
        """Reads DETOXIFY_* / SCORING_* keys (strings from the environment are parsed); missing keys keep defaults."""
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, key in CONFIG_KEYS.items():
            raw = config.get(key)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            values[name] = _parse(key, raw, types[name])
        return cls(**values)


def _parse(key: str, raw: Any, type_name: Any) -> Any:
    type_name = str(type_name)
    try:
        if "int" in type_name:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(str(raw).strip()) if isinstance(raw, str) else int(raw)
        if "float" in type_name:
            if isinstance(raw, bool):
                raise ValueError
            return float(raw)
    except (TypeError, ValueError):
        kind = "an integer" if "int" in type_name else "a number"
        raise ValueError(f"{key}: expected {kind}, got {raw!r}") from None
    if not isinstance(raw, str):
        raise ValueError(f"{key}: expected a string, got {raw!r}")
    return raw.strip()


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """True when this CPU multiplies bf16 matrices natively (Linux: the flags in /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return bool(NATIVE_BF16_FLAGS & set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return False
