"""A micro-batcher: concurrent score requests in one process share forward passes.

Requests queue here; one scoring thread per process takes what has arrived, waits at most
`window` seconds after the oldest request for more (or until `max_texts` are waiting), and
runs one call for all of them. Requests that arrive while a batch is being scored form the
next batch, so under load batches grow by themselves and a lone request waits no longer
than the window (the service's default window is 0: an idle scorer starts at once, and
batches form only from requests that arrived during the previous forward pass).

Callers may also *announce* a request before it is ready to score (`announce`, then `score`
or `withdraw`): the webhook does so once a signature has verified, while the comment is
still being stored. While announced requests are on their way, a batch waits for them up to
`company` seconds after its oldest request; with none announced it starts at once. So a lone
request never waits, and under load a forward pass carries the requests that are about to
arrive instead of leaving them to the next one.

Each request gets its own results back, in its own order; an exception from the call is
raised in every request of that batch (callers fail closed on it).

Hand-written rather than a library: the candidates (Ray Serve, TorchServe, Triton) are
whole servers with their own processes and protocols; what is needed here is about eighty
lines over threading.Condition, inside the gunicorn worker that already holds the model.
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# What observers are told after each batch: (requests, texts, seconds the oldest waited, seconds scoring, error)
BatchObserver = Callable[[int, int, float, float, "BaseException | None"], None]


@dataclass
class _Request:
    texts: Sequence[str]
    arrived: float
    context: Any = None
    done: threading.Event = field(default_factory=threading.Event)
    results: list[Any] | None = None
    error: BaseException | None = None


class Announcement:
    """A request on its way to `score` (see MicroBatcher.announce)."""

    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active = True


class MicroBatcher:
    """Collects texts from concurrent callers and scores them together with `run(texts) -> results`."""

    def __init__(self, run: Callable[..., list[Any]], *, window: float, max_texts: int,
                 observer: BatchObserver | None = None, contexts: bool = False, company: float = 0.0) -> None:
        """contexts: call `run(texts, contexts)`, each text with the `context` its request gave;
        company: how long a batch waits for announced requests (seconds after its oldest)."""
        if window < 0:
            raise ValueError("window: expected seconds >= 0")
        if max_texts < 1:
            raise ValueError("max_texts: expected a positive integer")
        self._run = run
        self.window = window
        self.max_texts = max_texts
        self.observer = observer
        self.company = max(0.0, company)
        self._contexts = contexts
        self._reset()
        # The scoring thread does not survive a fork: a child starts its own on first use.
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (b := ref()) is not None and b._reset())

    def _reset(self) -> None:
        self._condition = threading.Condition()
        self._queue: list[_Request] = []
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._announced = 0
        self._local = threading.local()  # this thread's announcement, consumed by its next score()

    def announce(self) -> Announcement:
        """Says that this thread will call `score` soon; `withdraw` it if it does not."""
        announcement = Announcement()
        with self._condition:
            self._announced += 1
        self._local.announcement = announcement
        return announcement

    def withdraw(self, announcement: Announcement) -> None:
        """The announced request will not score (or has): batches stop waiting for it."""
        with self._condition:
            self._consume(announcement)
        if getattr(self._local, "announcement", None) is announcement:
            self._local.announcement = None

    def _consume(self, announcement: Announcement | None) -> None:
        # Under the condition.
        if announcement is not None and announcement.active:
            announcement.active = False
            self._announced -= 1
            self._condition.notify_all()

    def score(self, texts: Sequence[str], context: Any = None) -> list[Any]:
        """Results for `texts` in order; raises what the batch's call raised."""
        if not texts:
            return []
        request = _Request(list(texts), time.monotonic(), context)
        announcement = getattr(self._local, "announcement", None)
        with self._condition:
            self._ensure_thread()
            self._queue.append(request)
            self._consume(announcement)
            self._condition.notify_all()
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.results is not None
        return request.results

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="scoring-batcher", daemon=True)
            self._thread.start()

    def _waiting_texts(self) -> int:
        return sum(len(r.texts) for r in self._queue)

    def _take_batch(self) -> list[_Request]:
        """Blocks until a batch is due: the window after the oldest request has passed, or it is full."""
        with self._condition:
            while not self._queue:
                self._condition.wait()
            deadline = self._queue[0].arrived + self.window
            with_company = self._queue[0].arrived + self.company
            while self._waiting_texts() < self.max_texts:
                now = time.monotonic()
                if now < deadline:
                    self._condition.wait(deadline - now)
                elif self._announced > 0 and now < with_company:
                    self._condition.wait(with_company - now)
                else:
                    break
            batch, size = [], 0
            # Whole requests only: a request is never split across two forward passes. The
            # first is always taken, even when it alone is larger than max_texts.
            while self._queue and (not batch or size + len(self._queue[0].texts) <= self.max_texts):
                request = self._queue.pop(0)
                batch.append(request)
                size += len(request.texts)
            return batch

    def _loop(self) -> None:
        while True:
            batch = self._take_batch()
            self._score(batch)

    def _score(self, batch: list[_Request]) -> None:
        texts = [text for request in batch for text in request.texts]
        started = time.monotonic()
        error: BaseException | None = None
        try:
            if self._contexts:
                results = self._run(texts, [request.context for request in batch for _ in request.texts])
            else:
                results = self._run(texts)
            if len(results) != len(texts):
                raise RuntimeError(f"scored {len(results)} results for {len(texts)} texts")
        except BaseException as exc:  # every waiting request must hear of it, whatever it is
            error = exc
        elapsed = time.monotonic() - started
        offset = 0
        for request in batch:
            if error is None:
                request.results = results[offset:offset + len(request.texts)]
                offset += len(request.texts)
            else:
                request.error = error
            request.done.set()
        if self.observer is not None:
            try:
                self.observer(len(batch), len(texts), started - batch[0].arrived, elapsed, error)
            except Exception:
                pass  # metrics must never stop scoring
