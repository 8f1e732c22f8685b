"""Helpers for the Perspective-compatible API tests: keys and analyze requests."""
from __future__ import annotations

import json


def new_key(app, slug: str = "news") -> str:
    """A key made by the real CLI command (`moderation apikey create SLUG --json`)."""
    result = app.test_cli_runner().invoke(args=["apikey", "create", slug, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["site"] == slug
    return data["key"]


def analyze(client, key: str | None, body, *, header: bool = False, raw: bytes | None = None):
    url = "/v1alpha1/comments:analyze" + (f"?key={key}" if key and not header else "")
    headers = {"X-Goog-Api-Key": key} if key and header else {}
    data = raw if raw is not None else json.dumps(body).encode()
    return client.post(url, data=data, headers=headers, content_type="application/json")


def request_body(text: str, *attributes: str, **extra):
    body = {"comment": {"text": text}, "requestedAttributes": {a: {} for a in attributes or ("TOXICITY",)}}
    body.update(extra)
    return body
