"""`moderation worker`: one loop that decides pending comments, delivers callbacks and runs rescoring jobs.

Every piece of work is claimed in the database (FOR UPDATE SKIP LOCKED on PostgreSQL, with
leases where the work happens outside a transaction), so any number of workers on any number
of machines can share one PostgreSQL. On SQLite run one worker. SIGTERM or SIGINT finishes the
item in hand, hands back what was claimed but not started, and exits.
"""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from .extensions import db
from .models import utcnow

logger = logging.getLogger(__name__)

# Torch threads `moderation worker` scores with unless MODERATION_SCORING_THREADS is set: it runs
# beside `moderation serve`, which already gives its processes all the cores, and torch's own
# default (one thread per core) would then oversubscribe them.
WORKER_SCORING_THREADS = 1


def use_worker_threads(app: Flask) -> int:
    """Give the app's scorer the worker's torch threads (before it loads); returns the count."""
    from . import runtime

    configured = app.config.get("SCORING_THREADS")
    if configured is not None and str(configured).strip():
        return int(str(configured).strip())  # validated when the app was built
    app.config["SCORING_THREADS"] = WORKER_SCORING_THREADS
    runtime.init_app(app)  # the scorer is built, not loaded, at create_app: build it again with the setting
    return WORKER_SCORING_THREADS


def grace_seconds(config: Any) -> float:
    """MODERATION_WORKER_GRACE_SECONDS, read or refused with the variable's name."""
    raw = config["WORKER_GRACE_SECONDS"]
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if isinstance(raw, bool) or not 0 <= value < float("inf"):
        raise ValueError(f"MODERATION_WORKER_GRACE_SECONDS: expected a number of seconds >= 0, got {raw!r}")
    return value


class Worker:
    """The job loop; `clock` is injectable so tests can move time instead of sleeping."""

    def __init__(self, app: Flask, *, clock: Callable[[], datetime] = utcnow) -> None:
        from .callbacks.transport import pinned_session
        from .jobs.pending import PendingScorer
        from .runtime import scorer

        config = app.config
        self.app = app
        self.clock = clock
        self.interval = float(config["WORKER_POLL_SECONDS"])
        self.batch_size = int(config["WORKER_BATCH_SIZE"])
        self.callback_lease = timedelta(seconds=float(config["CALLBACK_LEASE_SECONDS"]))
        self.callback_timeout = float(config["CALLBACK_TIMEOUT"])
        self.rescore_lease = timedelta(seconds=float(config["RESCORE_LEASE_SECONDS"]))
        with app.app_context():
            self.scorer = scorer()
        self.pending = PendingScorer(self.scorer, batch_size=self.batch_size, clock=clock,
                                     grace=timedelta(seconds=grace_seconds(config)))
        self.http = pinned_session(allow_private=bool(config["CALLBACK_ALLOW_PRIVATE"]))
        self._stop = threading.Event()

    # -- control ---------------------------------------------------------------------------
    def stop(self, *_: Any) -> None:
        if not self._stop.is_set():
            logger.info("stop requested; finishing the current item")
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self, *, until_idle: bool = False) -> None:
        """Loop until stopped (or, with until_idle, until a pass finds nothing to do)."""
        logger.info("worker started")
        while not self.stopping:
            busy = self.run_once()
            if until_idle and not busy:
                break
            if not busy:
                self._stop.wait(self.interval)  # wakes at once on SIGTERM
        logger.info("worker stopped")

    # -- one pass --------------------------------------------------------------------------
    def run_once(self) -> bool:
        """One pass over every kind of work; True if anything was claimed."""
        busy = False
        for step in (self.score_pending, self.deliver_callbacks, self.rescore_step):
            if self.stopping:
                break
            with self.app.app_context():
                try:
                    busy = bool(step()) or busy
                except Exception:
                    # One failing step (a database hiccup, a bug) must not stop the others;
                    # claimed work is leased, so nothing is lost by giving up on this pass.
                    db.session.rollback()
                    logger.exception("worker step %s failed", step.__name__)
                finally:
                    db.session.remove()
        return busy

    def score_pending(self) -> int:
        return self.pending.step()

    def deliver_callbacks(self) -> int:
        from .callbacks.dispatch import deliver_due

        return deliver_due(self.http, clock=self.clock, limit=self.batch_size, lease=self.callback_lease,
                           timeout=self.callback_timeout, should_stop=lambda: self.stopping)

    def rescore_step(self) -> int:
        from .jobs.rescore import claim_job, run_batch
        from .scoring import ScorerUnavailable

        if self.pending.waiting_for_model:
            return 0  # the model is down: rescoring would only count failures
        job = claim_job(self.clock(), self.rescore_lease)
        if job is None:
            return 0
        try:
            self.scorer.ensure_loaded()
        except ScorerUnavailable:
            return 0  # the lease lapses; the job waits for a model
        done = run_batch(job, self.scorer, batch_size=self.batch_size, now=self.clock(),
                         lease=self.rescore_lease, actor_type="worker", keep_lease=False)
        if done == 0:
            logger.info("rescore job %d done: %d processed, %d changed, %d not scored",
                        job.id, job.processed, job.changed, job.skipped)
        return max(done, 1)


@click.command("worker")
@click.option("--until-idle", is_flag=True, help="Exit when a pass finds nothing to do (cron, tests).")
@with_appcontext
def worker_command(until_idle: bool) -> None:
    """Decide pending comments, deliver callbacks and run rescoring jobs until SIGTERM.

    Scores on one torch thread unless MODERATION_SCORING_THREADS is set (`moderation serve`
    on the same machine already divides the cores between its processes).
    """
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threads = use_worker_threads(app)
    try:
        worker = Worker(app)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    worker.install_signal_handlers()
    # Logged once the handlers are in place: a supervisor may signal as soon as it sees output.
    logger.info("worker scoring with %d torch thread(s)", threads)
    worker.run(until_idle=until_idle)
