"""Browser fixtures: the app on a real HTTP server in a thread, and Debian's headless Chromium."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def pytest_collection_modifyitems(items) -> None:
    # Every test under tests/browser needs the browser; say why when it is not there.
    skip = pytest.mark.skip(reason=f"Debian's chromium is not installed at {CHROMIUM} "
                                   "(apt-get install -y chromium); Playwright cannot download browsers here")
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@dataclass
class LiveServer:
    url: str
    app: object
    _server: object = field(repr=False)

    def stop(self) -> None:
        self._server.shutdown()


def serve(app) -> LiveServer:
    """Serve the WSGI app on a free port of 127.0.0.1 (real HTTP, real cookies)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    return LiveServer(f"http://127.0.0.1:{server.server_port}", app, server)


@pytest.fixture
def live(app, site):
    """The app (with the `site` fixture's site) served over real HTTP for the test's length."""
    server = serve(app)
    yield server
    server.stop()


@pytest.fixture
def page_errors():
    """Collects what must never happen on a page: JavaScript dialogs and uncaught errors."""
    return {"dialogs": [], "errors": []}


def new_page(browser, page_errors, *, viewport=(1280, 900)):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()

    def on_dialog(dialog) -> None:
        page_errors["dialogs"].append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: page_errors["errors"].append(str(error)))
    return context, page


def sign_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/review/")
