"""`moderation serve`: gunicorn with the app preloaded, so forked workers share the model's memory."""
from __future__ import annotations

import os

import click


def run_gunicorn(bind: str, workers: int, threads: int, timeout: int) -> None:
    from gunicorn.app.base import BaseApplication

    from . import create_app

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", timeout)
            # Preload: the app (not the model, which loads lazily on first use) is built once in
            # the master. Inference never runs in the master: forked children would hang on its
            # torch thread pool.
            self.cfg.set("preload_app", True)
            self.cfg.set("accesslog", None)

        def load(self):
            return create_app()

    Server().run()


@click.command("serve")
@click.option("--bind", default=lambda: os.environ.get("MODERATION_BIND", "127.0.0.1:8000"),
              show_default="127.0.0.1:8000 or $MODERATION_BIND")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--timeout", default=60, show_default=True, type=click.IntRange(5, 3600))
def serve_command(bind: str, workers: int, threads: int, timeout: int) -> None:
    """Serve the UI and API with gunicorn (app preloaded)."""
    run_gunicorn(bind, workers, threads, timeout)
