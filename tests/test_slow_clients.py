"""Slow clients (headers, then one byte of the body) and what holds against them (issue 8, item 15)."""
from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("slow_clients", REPO / "benchmarks" / "slow_clients.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()),
                    reason="nginx is not installed (Debian: apt-get install nginx)")
def test_behind_the_documented_nginx_settings_slow_clients_do_not_stall_the_service():
    # One worker with two threads: without the proxy, two slow clients hold every thread.
    results = _benchmark().measure(1, 2, [8], probes=2, timeout=10.0, through_nginx=True)
    assert results == [(8, 2)]


def test_the_container_serves_with_at_least_as_many_threads_as_moderation_serve():
    from moderation.serve import available_cores, default_workers, serve_command

    defaults = {p.name: p.default for p in serve_command.params}
    defaults["workers"] = defaults["workers"] or default_workers(available_cores())  # None: from the cores
    dockerfile = (REPO / "Dockerfile").read_text()
    threads = re.search(r"WEB_THREADS=(\d+)", dockerfile)
    workers = re.search(r"WEB_WORKERS=(\d+)", dockerfile)
    assert threads and workers, "the Dockerfile sets WEB_WORKERS and WEB_THREADS"
    assert '--threads \\"$WEB_THREADS\\"' in dockerfile and '--workers \\"$WEB_WORKERS\\"' in dockerfile
    assert int(threads.group(1)) * int(workers.group(1)) >= defaults["threads"] * defaults["workers"]
    assert int(threads.group(1)) >= defaults["threads"]
