"""Coral's clock: a per-process thread pool, the model's warm-up, and an assessment bounded in time.

Coral waits a short time (200 ms by default) and fails open on anything but a 2xx answer,
so everything that may take long (storing, committing behind SQLite's 10 s busy timeout,
scoring) runs in this pool while the request thread waits at most the time that is left.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..policy import DEFAULT_POLICY
from ..scoring import Assessment, LazyScorer
from ..scoring.assess import assess

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """A small per-process pool (created on first use, again after a fork: threads do not survive it)."""
    global _executor, _executor_pid
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="coral-score")
            _executor_pid = os.getpid()
        return _executor


def submit(fn: Callable[..., Any], *args: Any) -> Future:
    return _pool().submit(fn, *args)


# scorer -> the pid it was warmed in (a forked child must warm its own copy's thread settings)
_warmed: weakref.WeakKeyDictionary[LazyScorer, int] = weakref.WeakKeyDictionary()
_warming = threading.Lock()


def warm_up(scorer: LazyScorer) -> None:
    """Load the model and the pipeline's other lazy parts (the language identifier alone takes
    about half a second) so that a Coral request never pays for them; safe to call repeatedly.

    A failure is logged (and the scorer remembers it for /readyz); the next request tries again.
    """
    if _warmed.get(scorer) == os.getpid() or not _warming.acquire(blocking=False):
        return
    try:
        scorer.ensure_loaded()
        assess(["A warm-up sentence, long enough for language detection."], DEFAULT_POLICY, scorer)
        _warmed[scorer] = os.getpid()
    except Exception:
        logger.exception("Coral warm-up of %s failed; Coral comments are held until it loads", scorer.name)
    finally:
        _warming.release()


def is_warm(scorer: LazyScorer) -> bool:
    return _warmed.get(scorer) == os.getpid()


def bounded_assessor(scorer: LazyScorer, deadline: float):
    """An assessor for decisions.decide_revisions that gives up (None) rather than miss `deadline`.

    A cold model is not loaded here (it takes seconds): the warm-up starts for the next
    requests and this comment waits for the worker.
    """
    def run(texts: Sequence[str], policy, languages: Sequence[str | None], lexicon) -> list[Assessment] | None:
        if not is_warm(scorer):
            submit(warm_up, scorer)
            return None
        if time.monotonic() >= deadline:
            return None
        assessments = assess(texts, policy, scorer, lexicon=lexicon, languages=languages)
        if time.monotonic() >= deadline:
            # Coral has been answered SYSTEM_WITHHELD: leave the comment to the worker, whose
            # decision also reaches the site's callback URL.
            return None
        return assessments
    return run
