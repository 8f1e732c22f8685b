"""The README's signed webhook example really works: its script, run as written, gets an answer."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_script() -> str:
    match = re.search(r"```python\n(# send_comment\.py:.*?)```", README.read_text(), re.S)
    assert match, "README.md lost its send_comment.py example"
    return match.group(1)


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def run_script(live_url: str, slug: str, secret: str) -> str:
    env = {**os.environ, "BASE_URL": live_url, "SITE": slug, "SECRET": secret}
    result = subprocess.run([sys.executable, "-c", readme_script()], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_readme_request_is_accepted_and_answered(live_url, site):
    output = run_script(live_url, site.slug, site.secret)
    assert f"POST /api/v1/sites/{site.slug}/comments HTTP/1.1" in output
    assert re.search(r"^webhook-signature: v1,[A-Za-z0-9+/]+=*$", output, re.M)
    assert "HTTP/1.1 200 OK" in output and "Content-Type: application/json" in output
    answer = json.loads(output.split("HTTP/1.1 200 OK\nContent-Type: application/json\n", 1)[1])
    assert answer["external_id"] == "c42" and answer["status"] == "approved"
    # the plain URL in the body came back as a link
    assert '<a href="https://gazette.example/photos" rel="nofollow ugc noopener">' in answer["html"]


def test_the_readme_request_with_a_wrong_secret_gets_the_problem(live_url, site):
    output = run_script(live_url, site.slug, "whsec_" + "A" * 43 + "=")
    assert "HTTP/1.1 401 UNAUTHORIZED" in output.upper()
    assert "Content-Type: application/problem+json" in output
