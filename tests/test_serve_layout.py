"""`moderation serve`: processes x torch threads fit the cores; metrics from every worker."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from support import comment_payload, sign
from support import REPO, free_port

from moderation import serve


@pytest.mark.parametrize("cores, workers, threads", [(1, 1, 1), (2, 2, 1), (4, 2, 2), (8, 2, 4), (16, 4, 4),
                                                     (64, 16, 4)])
def test_default_layout_fits_the_cores(cores, workers, threads):
    assert serve.default_workers(cores) == workers
    assert serve.torch_threads(cores, workers) == threads
    assert workers * threads <= cores


def test_configured_threads_are_kept(monkeypatch):
    monkeypatch.setattr(serve, "available_cores", lambda: 8)
    assert serve.layout(None, {"MODERATION_SCORING_THREADS": "3"}) == (2, None)
    assert serve.layout(4, {}) == (4, 2)


def test_the_metrics_folder_is_emptied_at_start(tmp_path):
    (tmp_path / "counter_4242.db").write_bytes(b"left by an earlier run")
    (tmp_path / "notes.txt").write_text("not ours")
    environ: dict[str, str] = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    assert serve.prepare_metrics_dir(environ) == str(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    fresh: dict[str, str] = {}
    made = serve.prepare_metrics_dir(fresh)
    assert fresh["PROMETHEUS_MULTIPROC_DIR"] == made and os.path.isdir(made)


def _total(text: str, name: str) -> float:
    return sum(float(m) for m in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def _serve(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "moderation.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )


def _both_workers_warm(base: str) -> str:
    """Waits until gunicorn answers and both workers have warmed up; returns /metrics then."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=2).ok:
                break
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or workers warming up
            time.sleep(0.3)
    else:
        raise AssertionError("gunicorn did not start")
    # Each worker's warm-up (before it serves) scores texts too: count from when both are warm.
    while time.monotonic() < deadline:
        text = requests.get(base + "/metrics", timeout=30).text
        if _total(text, 'moderation_coral_warmups_total{outcome="done"}') >= 2:
            return text
        time.sleep(0.3)
    raise AssertionError("the workers did not warm up")


@pytest.mark.parametrize("configured_dir", [True, False], ids=["metrics-dir-set", "metrics-dir-default"])
def test_serve_counts_what_every_worker_scored(site, database_url, tiny_model, tmp_path, configured_dir):
    # Without PROMETHEUS_MULTIPROC_DIR, serve makes one; prometheus_client had been imported
    # (in-memory values) by then, and the workers' samples never reached a scrape.
    checkpoint, config_dir = tiny_model
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")  # unreadable if it were not removed
    port = free_port()
    env = dict(os.environ, MODERATION_DATABASE_URL=database_url, MODERATION_SECRET_KEY="x",
               MODERATION_DETOXIFY_CHECKPOINT=str(checkpoint), MODERATION_DETOXIFY_CONFIG_DIR=str(config_dir),
               MODERATION_BATCH_WINDOW_MS="50", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
               MODERATION_RATELIMIT_WEBHOOK="1000 per minute")
    if not configured_dir:
        del env["PROMETHEUS_MULTIPROC_DIR"]
    server = _serve(env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        before = _both_workers_warm(base)
        scored_before = _total(before, "moderation_scorer_texts_scored_total")

        def post(n: int) -> str:
            body = json.dumps(comment_payload(f"batched-{n}", f"<p>Comment {n} about the park.</p>")).encode()
            headers = sign(site.secret, body) | {"Content-Type": "application/json"}
            response = requests.post(f"{base}/api/v1/sites/{site.slug}/comments", data=body, headers=headers,
                                     timeout=60)
            assert response.status_code == 200, response.text
            return response.json()["status"]

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(post, range(16)))
        assert statuses == ["approved"] * 16
        text = requests.get(base + "/metrics", timeout=30).text
        # Whichever worker scored them, the scrape sees all 16, from both workers' files.
        assert _total(text, "moderation_scorer_texts_scored_total") - scored_before == 16
        assert _total(text, "moderation_scorer_failures_total") == 0
        rule = re.escape('endpoint="/api/v1/sites/<site>/comments"')
        posts = re.findall(rf'^moderation_http_request_duration_seconds_count{{[^}}]*{rule}[^}}]*}} (\S+)$', text,
                           re.M)
        assert sum(float(v) for v in posts) == 16
        assert not (metrics_dir / "counter_999999.db").exists() or not configured_dir
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_a_lone_webhook_is_scored_on_the_idle_workers_cores_too(site, database_url, tiny_model, tmp_path):
    checkpoint, config_dir = tiny_model
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MODERATION_SCORING_THREADS"}
    env.update(MODERATION_DATABASE_URL=database_url, MODERATION_SECRET_KEY="x",
               MODERATION_DETOXIFY_CHECKPOINT=str(checkpoint), MODERATION_DETOXIFY_CONFIG_DIR=str(config_dir),
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path), MODERATION_SCORING_LEND_IDLE_MS="50",
               MODERATION_RATELIMIT_WEBHOOK="1000 per minute")
    server = _serve(env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        lent_before = _total(_both_workers_warm(base), "moderation_scorer_lent_passes_total")
        for n in range(3):
            time.sleep(0.3)  # the other worker has been idle for longer than 50 ms
            body = json.dumps(comment_payload(f"alone-{n}", f"<p>Comment {n} about the park.</p>")).encode()
            response = requests.post(f"{base}/api/v1/sites/{site.slug}/comments", data=body,
                                     headers=sign(site.secret, body) | {"Content-Type": "application/json"},
                                     timeout=60)
            assert response.json()["status"] == "approved"
        text = requests.get(base + "/metrics", timeout=30).text
        assert _total(text, "moderation_scorer_lent_passes_total") - lent_before == 3
        assert (tmp_path / "cores.ledger").is_file()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_cores_are_lent_only_where_serve_divided_them(make_app, tmp_path):
    app = make_app(SCORING_LEND_IDLE_MS=100)
    with app.app_context():
        from moderation import runtime

        assert serve.share_cores(app, str(tmp_path), 1, 2) is None  # one worker: nothing to lend
        assert serve.share_cores(app, str(tmp_path), 2, None) is None  # MODERATION_SCORING_THREADS set
        ledger = serve.share_cores(app, str(tmp_path), 2, 3)
        assert (ledger.slots, ledger.threads_per_slot, ledger.idle) == (2, 3, 0.1)
        assert runtime.scorer()._cores is ledger


def test_lending_is_off_by_default_and_with_zero_idle_ms(make_app, tmp_path):
    for app in (make_app(), make_app(SCORING_LEND_IDLE_MS=0)):
        with app.app_context():
            assert serve.share_cores(app, str(tmp_path), 2, 1) is None
