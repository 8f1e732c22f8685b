"""Health, readiness, metrics, security headers and request logs."""
from __future__ import annotations

import json
import logging

from support import comment_payload


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_ok_once_the_scorer_has_loaded(client, post_comment):
    post_comment(comment_payload("h1"))
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["scorer"]["loaded"] is True


def test_metrics_report_comments_by_status(client, post_comment):
    post_comment(comment_payload("m1"))
    text = client.get("/metrics").get_data(as_text=True)
    assert "moderation_comments{" in text and "moderation_scorer_loaded" in text


def test_security_headers(client):
    headers = client.get("/healthz").headers
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_request_logs_hold_no_secrets(caplog, site, post_comment):
    from moderation.logs import JsonFormatter

    with caplog.at_level(logging.INFO, logger="moderation.requests"):
        logger = logging.getLogger("moderation")
        logger.addHandler(caplog.handler)
        try:
            post_comment(comment_payload("l1"))
        finally:
            logger.removeHandler(caplog.handler)
    records = [r for r in caplog.records if r.name == "moderation.requests"]
    assert records
    line = JsonFormatter().format(records[-1])
    data = json.loads(line)
    assert data["path"].endswith("/comments") and data["status"] in (200, 202) and data["site"] == site.slug
    # The duration is there: the metrics' timer once took the start time away before the log read it.
    assert isinstance(data["ms"], float) and data["ms"] > 0
    for secret in (site.secret, site.secret.removeprefix("whsec_"), "v1,", site.api_token):
        assert secret not in line


def test_unknown_api_route_is_problem_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_openapi_document_lists_the_contract(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/sites/{site}/comments", "/api/v1/sites/{site}/comments/{id}",
            "/api/v1/sites/{site}/integrations/coral"} <= set(document["paths"])
    responses = document["paths"]["/api/v1/sites/{site}/comments"]["post"]["responses"]
    assert {"200", "202", "400", "401", "404", "413", "415", "422", "429"} <= set(responses)
