"""A wheel built from the repository, installed in a fresh venv (not editable), migrates and serves."""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
import requests

from support import POSTGRES_URL
from support import free_port

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="packaging does not depend on the database: "
                                "runs once, in the SQLite half")


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` would build (no build isolation: hatchling is in the test extra)."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", str(out), str(REPO))
    (built,) = out.glob("moderation-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with only the wheel installed; its dependencies are read from this venv's
    site-packages through a .pth line (no download), and the checkout is nowhere on its path."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    purelib = Path(_run(str(venv / "bin" / "python"), "-c",
                        "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "test-dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    _run(*pip, "install", "--no-index", "--no-deps", "--force-reinstall", str(wheel))
    # Every declared dependency is satisfied by what is there.
    _run(*pip, "check")
    return venv


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODERATION_", "PYTHON", "FLASK_"))}
    env.update(extra)
    return env


def test_the_wheel_holds_the_templates_the_migrations_and_the_static_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for source in ("templates", "migrations"):
        for path in (REPO / source).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert f"moderation/{path.relative_to(REPO).as_posix()}" in names, path
    assert "moderation/static/css/app.css" in names
    assert not any(name.startswith(("tests/", "templates/", "migrations/")) for name in names)


def test_installed_wheel_migrates_and_serves_the_login_page_with_its_styles(installed, tmp_path):
    python = str(installed / "bin" / "python")
    where = _run(python, "-c", "import moderation; print(moderation.__file__)", cwd=tmp_path).stdout
    assert where.startswith(str(installed)), where  # the wheel, not the checkout

    database = tmp_path / "service.sqlite3"
    env = _clean_env(MODERATION_DATABASE_URL=f"sqlite:///{database}", MODERATION_SECRET_KEY="wheel-test")
    _run(str(installed / "bin" / "moderation"), "db", "upgrade", cwd=tmp_path, env=env)
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"comments", "sites", "users", "alembic_version"} <= tables
    # Flask's rule for an installed app (the Dockerfile's volume): <prefix>/var/moderation-instance.
    assert (installed / "var" / "moderation-instance").is_dir()

    # `gunicorn wsgi:app` from a folder that holds only wsgi.py, as the Dockerfile's /app does.
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    shutil.copy(REPO / "wsgi.py", app_dir / "wsgi.py")
    port = free_port()
    server = subprocess.Popen([python, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "wsgi:app"], cwd=app_dir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                # A long read timeout: the first request on a busy machine may take a while to answer.
                login = requests.get(f"{base}/auth/login", timeout=(5, 60))
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.5)
        assert login.status_code == 200
        assert 'name="password"' in login.text
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', login.text).group(1)
        css = requests.get(base + stylesheet, timeout=5)
        assert css.status_code == 200
        assert css.headers["Content-Type"].startswith("text/css")
        assert css.text == (REPO / "moderation" / "static" / "css" / "app.css").read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
