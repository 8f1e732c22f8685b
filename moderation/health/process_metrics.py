"""Request and scorer metrics (prometheus_client), in multiprocess mode under gunicorn.

Created on first use, in no registry: a scrape collects them (or, under `moderation serve`,
the files every worker writes to PROMETHEUS_MULTIPROC_DIR). No Flask here: the scorer's
batcher reports to observe_batch from its own thread.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from prometheus_client import Counter, Histogram

# Seconds: from a fast GET of a comment to a forward pass of a full-size model under load.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class Metrics:
    requests: Histogram
    batch_texts: Histogram
    batch_requests: Histogram
    queue_wait: Histogram
    inference: Histogram
    scored: Counter
    failures: Counter
    confirmed: Counter
    lent: Counter


_lock = threading.Lock()
_metrics: Metrics | None = None


def metrics() -> Metrics:
    global _metrics
    with _lock:
        if _metrics is None:
            _metrics = Metrics(
                requests=Histogram("moderation_http_request_duration_seconds",
                                   "HTTP requests by endpoint (URL rule), method and status",
                                   ["endpoint", "method", "status"], registry=None, buckets=LATENCY_BUCKETS),
                batch_texts=Histogram("moderation_scorer_batch_texts", "Texts per forward pass",
                                      registry=None, buckets=BATCH_BUCKETS),
                batch_requests=Histogram("moderation_scorer_batch_requests",
                                         "Requests sharing one forward pass", registry=None, buckets=BATCH_BUCKETS),
                queue_wait=Histogram("moderation_scorer_queue_wait_seconds",
                                     "How long the oldest request of a batch waited before its forward pass",
                                     registry=None, buckets=LATENCY_BUCKETS),
                inference=Histogram("moderation_scorer_inference_seconds", "Time per batch in the model",
                                    registry=None, buckets=LATENCY_BUCKETS),
                scored=Counter("moderation_scorer_texts_scored", "Texts scored by the model", registry=None),
                failures=Counter("moderation_scorer_failures", "Batches whose forward pass raised",
                                 registry=None),
                confirmed=Counter("moderation_scorer_confirmed_fp32",
                                  "Texts scored again at fp32: their reduced-precision score was near a threshold",
                                  registry=None),
                lent=Counter("moderation_scorer_lent_passes",
                             "Forward passes that ran on other processes' idle cores as well as their own",
                             registry=None),
            )
        return _metrics


def reset() -> None:
    """Forget the metrics made so far (the next use makes them anew, with the current value class)."""
    global _metrics
    with _lock:
        _metrics = None


def collectors() -> list:
    """What a scrape reads: this process's metrics, or every worker's files in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector

        return [MultiProcessCollector(None)]
    m = metrics()
    return [m.requests, m.batch_texts, m.batch_requests, m.queue_wait, m.inference, m.scored, m.failures,
            m.confirmed, m.lent]


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    metrics().requests.labels(endpoint, method, str(status)).observe(seconds)


def observe_batch(requests: int, texts: int, waited: float, seconds: float, error: BaseException | None) -> None:
    """The scorer's observer (moderation.scoring.batching.BatchObserver)."""
    m = metrics()
    m.batch_requests.observe(requests)
    m.batch_texts.observe(texts)
    m.queue_wait.observe(max(0.0, waited))
    m.inference.observe(seconds)
    if error is None:
        m.scored.inc(texts)
    else:
        m.failures.inc()


def observe_lent() -> None:
    """Called by the scorer for each pass that borrowed idle processes' cores (scoring.cores)."""
    metrics().lent.inc()


def observe_confirmed(texts: int) -> None:
    """Called by the scorer for the texts it computed again at fp32 (scoring.detoxify_backend)."""
    metrics().confirmed.inc(texts)
