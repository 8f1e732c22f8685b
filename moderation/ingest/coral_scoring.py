"""Coral's clock: a per-process thread pool, the model's warm-up, and an assessment bounded in time.

Coral waits a short time (200 ms by default) and fails open on anything but a 2xx answer,
so everything that may take long (storing, committing behind SQLite's 10 s busy timeout,
scoring) runs in this pool while the request thread waits at most the time that is left.

A process scores Coral's comments only once it is warm: the model loaded and a first forward
pass, the language identifier and the lexicon run in this process (a forked gunicorn worker
pays seconds for them; under `moderation serve` each worker warms before it accepts requests,
see moderation/serve.py). Until then Coral is told SYSTEM_WITHHELD and the worker decides.
A warm-up that fails is logged with its traceback, counted in /metrics and named in /readyz.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from ..policy import DEFAULT_POLICY
from ..scoring import Assessment, LazyScorer
from ..scoring.assess import assess

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_executor_lock = threading.Lock()

# Texts of the lengths comments have (the first forward pass at a length pays for set-up), and
# one batch of two, as concurrent requests share forward passes.
_PARK = ("The trophies park in Baku opened in 2021, and readers argued about what it says of the war, "
         "of the prisoners, and of the people on both sides who lost someone. ")
WARM_UP_TEXTS = ("A warm-up sentence, long enough for language detection.", _PARK * 5)

_metrics_lock = threading.Lock()
_metrics: dict[str, Counter] = {}


def metrics() -> dict[str, Counter]:
    """Created on first use, in a worker (so in multiprocess mode under `moderation serve`)."""
    with _metrics_lock:
        if not _metrics:
            _metrics["warmups"] = Counter(
                "moderation_coral_warmups", "Warm-ups of the model for Coral by outcome: done, error (failed), "
                "timeout (not finished when the worker began serving); Coral comments are withheld until one is "
                "done", ["outcome"], registry=None)
            _metrics["answers"] = Counter(
                "moderation_coral_answers", "Coral answers by outcome: decided (in time), undecided (withheld "
                "and left pending: not warm, or no time left to score), timeout (withheld at the deadline), "
                "error (withheld on a failure), refused (withheld: unreadable or over quota)", ["outcome"],
                registry=None)
        return _metrics


def count_answer(outcome: str) -> None:
    try:
        metrics()["answers"].labels(outcome).inc()
    except Exception:  # metrics must never change Coral's answer
        logger.debug("Coral answer not counted", exc_info=True)


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


@dataclass
class WarmState:
    pid: int
    state: str  # "warming", "warm" or "failed"
    since: float  # time.monotonic() when it entered that state
    reason: str | None = None


# scorer -> its warm-up state in the process that recorded it (a forked child warms its own)
RETRY_SECONDS = 10.0  # after a failed warm-up, Coral requests start the next try no sooner
_states: weakref.WeakKeyDictionary[LazyScorer, WarmState] = weakref.WeakKeyDictionary()
_warming = threading.Lock()


def _after_fork() -> None:
    # A lock held by a warming thread at fork time would stay held in the child forever, and
    # a child would never warm: every Coral comment withheld in milliseconds, silently.
    global _warming
    _warming = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def _state(scorer: LazyScorer) -> WarmState | None:
    state = _states.get(scorer)
    return state if state is not None and state.pid == os.getpid() else None


def warm_up(scorer: LazyScorer) -> bool:
    """Load the model and the pipeline's lazy parts (the language identifier alone takes about
    half a second, the first forward pass of a forked process seconds) so that a Coral request
    never pays for them; True when warm. Safe to call repeatedly and from several threads: a
    call while another thread warms returns False at once.

    A failure is logged with its traceback, counted (moderation_coral_warmups_total{outcome="error"}) and
    reported by /readyz; the next Coral request (or readiness probe) tries again.
    """
    if is_warm(scorer):
        return True
    if not _warming.acquire(blocking=False):
        return False
    started = time.monotonic()
    _states[scorer] = WarmState(os.getpid(), "warming", started)
    try:
        scorer.ensure_loaded()
        short, long = WARM_UP_TEXTS
        _check(assess([short], DEFAULT_POLICY, scorer))  # pays for the set-up
        long_started = time.monotonic()
        _check(assess([long], DEFAULT_POLICY, scorer))
        clock = pace(scorer)  # the first forecast
        clock.observe(clock.size([long]), time.monotonic() - long_started)
        _check(assess([short, long], DEFAULT_POLICY, scorer))  # a batch, as concurrent requests make
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        _states[scorer] = WarmState(os.getpid(), "failed", time.monotonic(), reason)
        metrics()["warmups"].labels("error").inc()
        logger.exception("Coral warm-up of %s failed in process %d; Coral comments are withheld until it "
                         "succeeds", scorer.name, os.getpid())
        return False
    finally:
        _warming.release()
    seconds = time.monotonic() - started
    _states[scorer] = WarmState(os.getpid(), "warm", time.monotonic())
    metrics()["warmups"].labels("done").inc()
    logger.info("Coral warm-up of %s done in process %d in %.1f s", scorer.name, os.getpid(), seconds)
    return True


def _check(assessments: list[Assessment]) -> None:
    """assess() reports a scorer failure as a pending assessment: a warm-up must not pass on it."""
    for assessment in assessments:
        if assessment.scores is None:
            raise RuntimeError(f"the model did not score the warm-up text ({assessment.error or 'no scores'})")


def is_warm(scorer: LazyScorer) -> bool:
    state = _state(scorer)
    return state is not None and state.state == "warm"


def warm_status(scorer: LazyScorer) -> str | None:
    """None when warm in this process, else why not (for /readyz)."""
    state = _state(scorer)
    if state is None:
        return "not warmed up in this process yet"
    if state.state == "warming":
        return f"warming up for {time.monotonic() - state.since:.1f} s"
    if state.state == "failed":
        return f"warm-up failed: {state.reason}"
    return None


def warm_in_worker(scorer: LazyScorer, limit: float, heartbeat: Callable[[], None] = lambda: None) -> bool:
    """Warm this process before it takes requests, waiting at most `limit` seconds (calling
    `heartbeat` every second, so that gunicorn's master does not take the wait for a hang).

    The warm-up runs in a thread of its own: one that never finishes (a torch thread pool
    broken by a fork has been seen to hang) is reported and the process serves all the same,
    withholding Coral comments, rather than never taking a request.
    """
    done = threading.Event()
    result: list[bool] = []

    def run() -> None:
        try:
            result.append(warm_up(scorer))
        finally:
            done.set()

    threading.Thread(target=run, name="coral-warm-up", daemon=True).start()
    deadline = time.monotonic() + limit
    while not done.wait(min(1.0, max(0.0, deadline - time.monotonic()))):
        heartbeat()
        if time.monotonic() >= deadline:
            metrics()["warmups"].labels("timeout").inc()
            logger.error("Coral warm-up of %s did not finish in %.0f s in process %d; serving anyway, Coral "
                         "comments are withheld until it does", scorer.name, limit, os.getpid())
            return False
    return bool(result and result[0])


class Tail:
    """How far past its deadline this process's answers have lately left (their last byte sent).

    On a busy machine the request thread waits for a core after its wait ends, and the answer
    leaves tens of milliseconds after the deadline; the next deadlines are brought forward by
    the second-largest of the recent overruns (one outlier does not count), so that answers
    still reach Coral in time. On a quiet machine it is about zero.
    """

    KEEP = 64  # recent answers remembered

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recent: list[float] = []

    def record(self, seconds: float) -> None:
        with self._lock:
            self._recent.append(max(0.0, seconds))
            del self._recent[:-self.KEEP]

    def allowance(self) -> float:
        """Seconds to keep back."""
        with self._lock:
            recent = sorted(self._recent)
        return recent[-2] if len(recent) >= 2 else 0.0


_tail: tuple[int, Tail] | None = None


def tail() -> Tail:
    global _tail
    if _tail is None or _tail[0] != os.getpid():
        _tail = (os.getpid(), Tail())
    return _tail[1]


class Pace:
    """How long this process takes to assess a text for Coral, to start only what can finish in time.

    The model's time grows with the text's length and with the texts scored before it (on a
    CPU a batch costs about the sum of its texts), so the forecast for a text is the seconds
    per character seen lately times its characters plus those of the Coral texts already in
    flight here. A forecast past the deadline withholds the comment at once, which leaves the
    cores to the comments that can still make it (a forward pass that cannot finish in time
    would be thrown away). Each comment withheld so lowers the rate a little, so a process
    whose load has eased tries again; each assessment that runs measures it anew.
    """

    CAP = 2500  # characters: texts are truncated to the model's 512 tokens
    ALPHA = 0.3  # weight of the newest measurement
    EASE = 0.85  # rate kept after a comment withheld on a forecast

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rate: float | None = None  # seconds per character, None until measured
        self.inflight = 0  # characters of Coral texts being assessed in this process

    def size(self, texts: Sequence[str]) -> int:
        return sum(min(len(t), self.CAP) for t in texts) + 50 * len(texts)  # a per-text share of fixed costs

    def start(self, size: int, remaining: float) -> int | None:
        """Characters ahead of this assessment (it is now in flight), or None: it would not finish in time."""
        if remaining <= 0:
            return None
        with self._lock:
            ahead = self.inflight
            if self.rate is not None and self.rate * (ahead + size) > remaining:
                self.rate *= self.EASE
                return None
            self.inflight += size
            return ahead

    def finish(self, size: int, ahead: int, seconds: float) -> None:
        self.abandon(size)
        self.observe(ahead + size, seconds)

    def observe(self, size: int, seconds: float) -> None:
        sample = seconds / max(1, size)
        with self._lock:
            self.rate = sample if self.rate is None else (1 - self.ALPHA) * self.rate + self.ALPHA * sample

    def abandon(self, size: int) -> None:
        with self._lock:
            self.inflight = max(0, self.inflight - size)


_paces: weakref.WeakKeyDictionary[LazyScorer, tuple[int, Pace]] = weakref.WeakKeyDictionary()


def pace(scorer: LazyScorer) -> Pace:
    """The scorer's Pace in this process (a forked child measures its own)."""
    found = _paces.get(scorer)
    if found is None or found[0] != os.getpid():
        found = _paces[scorer] = (os.getpid(), Pace())
    return found[1]


def bounded_assessor(scorer: LazyScorer, deadline: float):
    """An assessor for decisions.decide_revisions that gives up (None) rather than miss `deadline`.

    A cold model is not loaded here (it takes seconds): the warm-up starts for the next
    requests and this comment waits for the worker. An assessment forecast to end after the
    deadline is not started (see Pace).
    """
    def run(texts: Sequence[str], policy, languages: Sequence[str | None], lexicon) -> list[Assessment] | None:
        if not is_warm(scorer):
            state = _state(scorer)
            if state is None or state.state != "failed" or time.monotonic() - state.since >= RETRY_SECONDS:
                submit(warm_up, scorer)  # not on every request after a failure: one traceback per try
            return None
        clock = pace(scorer)
        size = clock.size(texts)
        started = time.monotonic()
        ahead = clock.start(size, deadline - started)
        if ahead is None:
            return None
        try:
            assessments = assess(texts, policy, scorer, lexicon=lexicon, languages=languages)
        except BaseException:
            clock.abandon(size)
            raise
        clock.finish(size, ahead, time.monotonic() - started)
        if time.monotonic() >= deadline:
            # Coral has been answered SYSTEM_WITHHELD: leave the comment to the worker, whose
            # decision also reaches the site's callback URL.
            return None
        return assessments
    return run


class CoralCollector:
    """This process's Coral counters for /metrics (in multiprocess mode the files carry them)."""

    def collect(self):
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return
        for counter in metrics().values():
            yield from counter.collect()
