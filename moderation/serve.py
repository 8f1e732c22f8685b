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


def run_gunicorn(bind: str, workers: int, threads: int, timeout: int) -> None:
    from flask import current_app
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", timeout)
            self.cfg.set("preload_app", True)
            self.cfg.set("accesslog", None)
            self.cfg.set("post_fork", lambda server, worker: reset_torch_threads(self.application))

        def load(self):
            # The app the `moderation` command built to find this command (not a second one).
            self.application = current_app._get_current_object()
            preload_model(self.application)
            return self.application

    Server().run()


@click.command("serve")
@click.option("--bind", default=lambda: os.environ.get("MODERATION_BIND", "127.0.0.1:8000"),
              show_default="127.0.0.1:8000 or $MODERATION_BIND")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--timeout", default=60, show_default=True, type=click.IntRange(5, 3600))
def serve_command(bind: str, workers: int, threads: int, timeout: int) -> None:
    """Serve the UI and API with gunicorn (app and model preloaded, shared by the workers)."""
    run_gunicorn(bind, workers, threads, timeout)
