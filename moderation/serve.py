"""`moderation serve`: gunicorn with the app preloaded, so forked workers share the model's memory."""
from __future__ import annotations

import logging
import os
import sys

import click

logger = logging.getLogger(__name__)


def preload_model(app) -> None:
    """Load the weights in the master so forked workers share their pages (copy-on-write).

    Loading only: inference never runs in the master. A master that had run inference leaves
    its children with a torch thread pool that hangs them (seen with 2 intra-op threads).
    """
    from . import runtime
    from .scoring import ScorerUnavailable

    with app.app_context():
        try:
            runtime.scorer().ensure_loaded()
        except ScorerUnavailable as error:
            # Each worker retries on its own; meanwhile comments wait as pending.
            logger.warning("model not preloaded: %s", error)


def reset_torch_threads(app) -> None:
    """In a freshly forked worker: give torch its thread count again (settings do not survive a fork)."""
    if "torch" not in sys.modules:
        return  # the model was not preloaded; the worker sets threads when it loads
    import torch

    threads = app.config.get("SCORING_THREADS") or torch.get_num_threads()
    torch.set_num_threads(int(threads))


def warm_worker(app, worker) -> None:
    """In a freshly forked worker, before it accepts a request: warm the model (a first forward
    pass, the language identifier, the lexicon) so that no Coral comment meets a cold process.

    Only this worker waits (the master and the other workers serve meanwhile), at most half
    gunicorn's timeout, telling the master it is alive; a warm-up that fails or does not finish
    is logged and counted, and the worker serves all the same (Coral comments withheld).
    """
    from . import runtime
    from .ingest.coral_scoring import warm_in_worker

    with app.app_context():
        warm_in_worker(runtime.scorer(), limit=max(5.0, worker.timeout / 2), heartbeat=worker.notify)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers(cores: int) -> int:
    """Two processes (one can restart while the other serves), one per four cores above eight,
    and never more processes than cores: each runs its forward passes on a thread of its own."""
    return min(max(2, cores // 4), max(1, cores))


def torch_threads(cores: int, workers: int) -> int:
    """Threads per worker so that workers x threads fit the cores: oversubscribed, torch's
    threads spin against each other and every forward pass gets slower."""
    return max(1, cores // workers)


def layout(workers: int | None, environ: dict[str, str] | None = None) -> tuple[int, int | None]:
    """(workers, torch threads to set, or None when MODERATION_SCORING_THREADS is configured)."""
    environ = os.environ if environ is None else environ
    cores = available_cores()
    workers = workers or default_workers(cores)
    if (environ.get("MODERATION_SCORING_THREADS") or "").strip():
        return workers, None
    return workers, torch_threads(cores, workers)


def share_cores(app, directory: str, workers: int, scoring_threads: int | None):
    """The ledger through which a worker's pass borrows idle workers' cores (scoring/cores.py), or
    None: one worker, threads set by the operator (MODERATION_SCORING_THREADS), or lending off."""
    from . import runtime
    from .scoring.cores import CoreLedger, ledger_path

    scorer = runtime.scorer()
    idle = scorer.settings.lend_idle_ms / 1000
    if workers < 2 or scoring_threads is None or idle <= 0:
        return None
    ledger = CoreLedger.create(ledger_path(directory), workers, scoring_threads, idle)
    scorer.lend_cores(ledger)
    return ledger


def prepare_metrics_dir(environ: dict[str, str] | None = None) -> str:
    """prometheus_client's multiprocess mode: every worker writes its samples to files in one
    directory, read together at scrape time; files of an earlier run must not be counted."""
    import shutil
    import tempfile

    environ = os.environ if environ is None else environ
    directory = environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="moderation-metrics-")
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    if environ is os.environ:
        # prometheus_client picks in-memory or file-backed values when it is imported, which
        # happened before this (the app is built first): pick again, and drop any metric made
        # with in-memory values, or the workers' samples never reach a scrape.
        from prometheus_client import values

        from .health import process_metrics

        values.ValueClass = values.get_value_class()
        process_metrics.reset()
    return directory


def _worker_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # its live gauges no longer count


def run_gunicorn(bind: str, workers: int | None, threads: int, timeout: int) -> None:
    from flask import current_app
    from gunicorn.app.base import BaseApplication

    workers, scoring_threads = layout(workers)
    if scoring_threads is not None:
        os.environ["MODERATION_SCORING_THREADS"] = str(scoring_threads)
        # The app is built already (the command runs in it): it must see the layout too.
        current_app.config["SCORING_THREADS"] = scoring_threads
    metrics_dir = prepare_metrics_dir()
    ledger = share_cores(current_app, metrics_dir, workers, scoring_threads)
    logger.info("serving with %d workers x %d request threads, torch threads %s%s",
                workers, threads, scoring_threads or os.environ.get("MODERATION_SCORING_THREADS"),
                f" (a lone pass borrows idle workers' cores: up to {workers * scoring_threads})" if ledger else "")

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", timeout)
            self.cfg.set("preload_app", True)
            self.cfg.set("accesslog", None)
            self.cfg.set("post_fork", lambda server, worker: reset_torch_threads(self.application))
            self.cfg.set("post_worker_init", lambda worker: warm_worker(self.application, worker))
            self.cfg.set("child_exit", _worker_exit)

        def load(self):
            # The app the `moderation` command built to find this command (not a second one).
            self.application = current_app._get_current_object()
            preload_model(self.application)
            return self.application

    Server().run()


@click.command("serve")
@click.option("--bind", default=lambda: os.environ.get("MODERATION_BIND", "127.0.0.1:8000"),
              show_default="127.0.0.1:8000 or $MODERATION_BIND")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="Processes (default: 2; 1 on one core; one per 4 cores above 8).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64),
              help="Request threads per process; concurrent requests in a process share forward passes.")
@click.option("--timeout", default=60, show_default=True, type=click.IntRange(5, 3600))
def serve_command(bind: str, workers: int | None, threads: int, timeout: int) -> None:
    """Serve the UI and API with gunicorn (app and model preloaded, shared by the workers).

    Unless MODERATION_SCORING_THREADS is set, each process gets cores / processes torch threads.
    """
    run_gunicorn(bind, workers, threads, timeout)
