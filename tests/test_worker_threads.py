"""`moderation worker` scores on one torch thread unless MODERATION_SCORING_THREADS is set, so that
it does not oversubscribe the cores `moderation serve` already divided between its processes."""
from __future__ import annotations

import threading

import pytest
import torch

from moderation import runtime
from moderation.worker import WORKER_SCORING_THREADS, use_worker_threads
from support import make_site
from test_callbacks_support import comment, post


@pytest.fixture
def torch_threads():
    """Torch's thread count is process-wide state: put it back after the test."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _run_worker_in_a_fresh_thread(app) -> tuple[object, int]:
    """`moderation worker --until-idle` in a thread that starts with 2 torch threads (a core each,
    on a 2-core machine); returns the command's result and the thread's torch threads after it."""
    seen: dict[str, object] = {}

    def run() -> None:
        torch.set_num_threads(2)
        seen["result"] = app.test_cli_runner().invoke(args=["worker", "--until-idle"])
        seen["threads"] = torch.get_num_threads()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    return seen["result"], seen["threads"]  # type: ignore[return-value]


def test_the_worker_scores_on_one_torch_thread_by_default(make_app, torch_threads, monkeypatch):
    import signal

    monkeypatch.setattr(signal, "signal", lambda *args: None)  # handlers install only in the main thread
    intake = make_app(scorer=False)
    credentials = make_site(intake)
    assert post(intake, credentials, "c1", "<p>Fine words about the park.</p>").status_code == 202
    app = make_app(BATCH_MAX=1)  # scored in the calling thread, where the setting can be read back
    assert app.config["SCORING_THREADS"] is None  # nothing configured
    result, threads = _run_worker_in_a_fresh_thread(app)
    assert result.exit_code == 0, result.output
    assert comment(app, "c1").status == "approved"  # it did score
    assert threads == WORKER_SCORING_THREADS == 1
    with app.app_context():
        assert runtime.scorer().settings.threads == 1


def test_configured_threads_are_kept(make_app):
    app = make_app(SCORING_THREADS="3")
    assert use_worker_threads(app) == 3
    with app.app_context():
        assert runtime.scorer().settings.threads == 3


def test_an_unset_setting_gets_the_worker_default_before_the_model_loads(make_app):
    app = make_app(SCORING_THREADS="")  # an empty MODERATION_SCORING_THREADS means unset
    with app.app_context():
        before = runtime.scorer()
    assert use_worker_threads(app) == 1
    with app.app_context():
        after = runtime.scorer()
        assert after is not before and after.settings.threads == 1
        assert after.status() == (False, "model not loaded yet")  # built, not loaded
