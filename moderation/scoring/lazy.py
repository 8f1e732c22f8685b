"""One scorer per process: loads the model on first use, remembers a failed load for a while."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .batching import BatchObserver, MicroBatcher
from .boundaries import Boundaries
from .errors import ScorerUnavailable, ScoringFailed
from .settings import ScorerSettings


class LazyScorer:
    """Thread-safe lazy Detoxify scorer; constructing it loads nothing (safe in a gunicorn master)."""

    def __init__(self, settings: ScorerSettings, *, observer: BatchObserver | None = None,
                 on_confirmed: Callable[[int], None] | None = None,
                 on_lent: Callable[[], None] | None = None) -> None:
        """observer: told of every forward pass; on_confirmed: of texts computed again at fp32;
        on_lent: of each pass that borrowed other processes' cores (see lend_cores)."""
        self.settings = settings
        self._on_confirmed = on_confirmed
        self._on_lent = on_lent
        self._cores: Any = None
        self._lock = threading.Lock()
        # Without batching, one forward pass at a time all the same: each request thread running
        # its own put up to 8 passes at once on the cores the process was given one torch
        # thread per core for (tests/scoring/test_batching.py saw all 8 at once).
        self._pass_lock = threading.Lock()
        self._backend: Any = None
        # Concurrent requests share forward passes (batch_max 1: each request scores alone).
        self._batcher = (MicroBatcher(self._score_loaded, window=settings.batch_window_ms / 1000,
                                      max_texts=settings.batch_max, observer=observer, contexts=True,
                                      company=settings.batch_company_ms / 1000)
                         if settings.batch_max > 1 else None)
        self._observer = observer
        self._failure: tuple[str, float] | None = None  # (reason, time.monotonic() of the failure)
        # A lock held by another thread at fork time would stay held in the child forever.
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (s := ref()) is not None and s._reset_lock())

    def _reset_lock(self) -> None:
        self._lock = threading.Lock()
        self._pass_lock = threading.Lock()

    def lend_cores(self, ledger: Any) -> None:
        """Share the machine's cores with the other processes holding `ledger` (a
        scoring.cores.CoreLedger): from now on each pass runs on the threads it holds."""
        self._cores = ledger
        if self._backend is not None:
            self._backend.cores = ledger

    def _want_cores(self) -> None:
        if self._cores is not None:
            with contextlib.suppress(OSError):  # lending is an optimisation: never fail a request for it
                self._cores.want()

    @property
    def name(self) -> str:
        return f"detoxify-{self.settings.model_type}"

    @property
    def classes(self) -> tuple[str, ...]:
        """The checkpoint's class names; empty until the model is loaded."""
        return self._backend.class_names if self._backend is not None else ()

    @property
    def languages(self) -> frozenset[str]:
        return self.settings.languages

    def ensure_loaded(self) -> None:
        """Loads now, or raises ScorerUnavailable (at once while a recent failure is remembered)."""
        self._loaded_backend()

    def score(self, texts: Sequence[str], boundaries: Boundaries | None = None) -> list[dict[str, float]]:
        """Scores texts in order; raises ScorerUnavailable (no model) or ScoringFailed (inference raised).

        boundaries: category -> the thresholds that will decide these texts; at reduced
        precision, scores near one are computed again at fp32 (see DetoxifyBackend.score).
        """
        if isinstance(texts, str):
            raise TypeError("score() takes a sequence of texts, not one string")
        if not texts:
            return []
        self._loaded_backend()  # a missing model is this request's ScorerUnavailable, not the batch's
        self._want_cores()
        try:
            if self._batcher is not None:
                return self._batcher.score(texts, boundaries)
            return self._observed(texts, [boundaries] * len(texts))
        except Exception as exc:
            raise ScoringFailed(f"inference failed: {type(exc).__name__}: {exc}") from exc

    @contextlib.contextmanager
    def expecting(self) -> Iterator[None]:
        """Around work that will call `score` soon: batches started meanwhile wait for it a little
        (MODERATION_BATCH_COMPANY_MS) instead of leaving it to the next forward pass."""
        if self._batcher is None or self._backend is None:
            yield
            return
        self._want_cores()
        announcement = self._batcher.announce()
        try:
            yield
        finally:
            self._batcher.withdraw(announcement)

    def _score_loaded(self, texts: list[str], boundaries: list[Boundaries | None]) -> list[dict[str, float]]:
        return self._backend.score(texts, boundaries)

    def _observed(self, texts: Sequence[str], boundaries: list[Boundaries | None]) -> list[dict[str, float]]:
        """Unbatched scoring, one call at a time, reported to the observer as a batch of one request."""
        arrived = time.monotonic()
        error: BaseException | None = None
        self._pass_lock.acquire()
        started = time.monotonic()
        try:
            return self._backend.score(texts, boundaries)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._pass_lock.release()
            if self._observer is not None:
                try:
                    self._observer(1, len(texts), started - arrived, time.monotonic() - started, error)
                except Exception:
                    pass  # metrics must never stop scoring

    def status(self) -> tuple[bool, str | None]:
        """(loaded, reason if not); never triggers a load."""
        if self._backend is not None:
            return True, None
        failure = self._failure
        return False, failure[0] if failure else "model not loaded yet"

    def info(self) -> dict[str, Any]:
        """What is (or would be) loaded, from where, its classes and size; never triggers a load."""
        loaded, reason = self.status()
        settings = self.settings
        details: dict[str, Any] = {
            "name": self.name,
            "model_type": settings.model_type,
            "loaded": loaded,
            "reason": reason,
            "checkpoint": settings.checkpoint,
            "config_dir": settings.config_dir,
            "device": settings.device,
            "precision": settings.precision,
            "effective_precision": settings.effective_precision,
            "confirm_margin": settings.confirm_margin if settings.confirms else None,
            "threads": settings.threads,
            "batch_size": settings.batch_size,
            "batch_window_ms": settings.batch_window_ms,
            "batch_max": settings.batch_max,
            "max_length": settings.max_length,
            "languages": sorted(self.languages),
            "classes": list(self.classes),
        }
        if self._backend is not None:
            details.update(self._backend.info())
        return details

    def _loaded_backend(self) -> Any:
        backend = self._backend
        if backend is not None:
            return backend
        with self._lock:
            if self._backend is not None:
                return self._backend
            failure = self._failure
            if failure is not None and time.monotonic() - failure[1] < self.settings.retry_after:
                raise ScorerUnavailable(failure[0])
            from .detoxify_backend import load_backend  # torch/transformers only when needed

            try:
                self._backend = load_backend(self.settings)
                self._backend.on_confirmed = self._on_confirmed
                self._backend.on_lent = self._on_lent
                self._backend.cores = self._cores
            except ScorerUnavailable as exc:
                self._failure = (str(exc), time.monotonic())
                raise
            except Exception as exc:
                reason = f"cannot load model: {type(exc).__name__}: {exc}"
                self._failure = (reason, time.monotonic())
                raise ScorerUnavailable(reason) from exc
            self._failure = None
            return self._backend
