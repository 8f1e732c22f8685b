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
    server = subprocess.Popen(
        [sys.executable, "-m", "moderation.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
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
            before = requests.get(base + "/metrics", timeout=30).text
            if _total(before, 'moderation_coral_warmups_total{outcome="done"}') >= 2:
                break
            time.sleep(0.3)
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
