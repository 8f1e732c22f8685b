"""/metrics: request and scorer metrics, readable by operators only."""
from __future__ import annotations

import re

from support import comment_payload

OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus's text format (0 when it is not there)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        if series.split("{")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(value)
    return total


def test_metrics_are_refused_to_other_addresses(client):
    response = client.get("/metrics", environ_overrides=OUTSIDE)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "moderation_" not in response.get_data(as_text=True)


def test_metrics_are_served_with_the_operator_token(make_app):
    app = make_app(OPERATOR_TOKEN="scrape-token-123")
    client = app.test_client()
    assert client.get("/metrics", environ_overrides=OUTSIDE,
                      headers={"Authorization": "Bearer wrong"}).status_code == 403
    response = client.get("/metrics", environ_overrides=OUTSIDE,
                          headers={"Authorization": "Bearer scrape-token-123"})
    assert response.status_code == 200
    assert "moderation_comments" in response.get_data(as_text=True)


def test_metrics_are_served_to_configured_addresses(make_app):
    client = make_app(OPERATOR_ADDRESSES="203.0.113.0/24").test_client()
    assert client.get("/metrics", environ_overrides=OUTSIDE).status_code == 200
    assert client.get("/metrics", environ_overrides={"REMOTE_ADDR": "198.51.100.1"}).status_code == 403


def test_requests_and_scoring_are_counted(client, site, post_comment):
    before = client.get("/metrics").get_data(as_text=True)
    rule = "/api/v1/sites/<site>/comments"
    for n in range(3):
        assert post_comment(comment_payload(f"metrics-{n}")).status_code == 200
    client.get("/api/v1/sites/news/comments/metrics-0")  # no token: 401, counted with its status
    after = client.get("/metrics").get_data(as_text=True)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("moderation_http_request_duration_seconds_count", endpoint=rule, method="POST", status="200") == 3
    assert grew("moderation_http_request_duration_seconds_count",
                endpoint="/api/v1/sites/<site>/comments/<path:external_id>", status="401") == 1
    assert grew("moderation_scorer_texts_scored_total") == 3
    assert grew("moderation_scorer_batch_texts_count") == 3  # one publisher: one text per forward pass
    assert grew("moderation_scorer_inference_seconds_count") == 3
    assert grew("moderation_scorer_failures_total") == 0


def test_a_failed_forward_pass_is_counted(app, client, site, post_comment, monkeypatch):
    from moderation import runtime

    with app.app_context():
        scorer = runtime.scorer()
        scorer.ensure_loaded()

    def broken(texts, boundaries=None):
        raise RuntimeError("inference exploded")

    monkeypatch.setattr(scorer._backend, "score", broken)
    before = sample(client.get("/metrics").get_data(as_text=True), "moderation_scorer_failures_total")
    response = post_comment(comment_payload("metrics-broken"))
    assert response.status_code == 202 and response.get_json()["status"] == "pending"
    after = sample(client.get("/metrics").get_data(as_text=True), "moderation_scorer_failures_total")
    assert after - before == 1


def test_scores_confirmed_at_fp32_are_counted(make_app):
    from support import make_site, signed_post

    # A margin of 1: every bf16 score is "near" a threshold, so each comment is confirmed.
    app = make_app(SCORING_PRECISION="bf16", SCORING_CONFIRM_MARGIN="1")
    client = app.test_client()
    site = make_site(app, "confirm")
    before = sample(client.get("/metrics").get_data(as_text=True), "moderation_scorer_confirmed_fp32_total")
    for n in range(2):
        assert signed_post(client, site.slug, site.secret, comment_payload(f"confirm-{n}")).status_code == 200
    after = sample(client.get("/metrics").get_data(as_text=True), "moderation_scorer_confirmed_fp32_total")
    assert after - before == 2
