"""No caching of signed-in pages, HTTPS awareness behind a proxy, /readyz reasons for operators only.

Issue 8, item 16.
"""
from __future__ import annotations

import pytest

from support import comment_payload
from review_support import Reviewer, add_comment, login, make_user

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}  # an anonymous caller on the internet


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[0]


def test_signed_in_pages_and_the_sign_in_form_are_never_stored(app, site):
    make_user(app, "mod@news.example")
    make_user(app, "admin@news.example", role="admin")
    comment_id = add_comment(app)
    client = app.test_client()
    assert client.get("/auth/login").headers.get("Cache-Control") == "no-store"  # holds a CSRF token
    moderator = Reviewer(client, "mod@news.example")
    for path in ("/review/", "/review/?status=approved", f"/review/comments/{comment_id}"):
        response = moderator.client.get(path)
        assert response.status_code == 200
        assert response.headers.get("Cache-Control") == "no-store", path
    decided = moderator.decide(comment_id, "approved")
    assert decided.status_code == 200 and decided.headers.get("Cache-Control") == "no-store"
    admin = Reviewer(app.test_client(), "admin@news.example")
    assert admin.client.get("/admin/callbacks/").headers.get("Cache-Control") == "no-store"


def test_api_answers_to_a_bearer_token_are_never_stored(client, site, post_comment):
    assert post_comment(comment_payload("c1")).status_code in (200, 202)
    response = client.get(f"/api/v1/sites/{site.slug}/comments/c1",
                          headers={"Authorization": f"Bearer {site.api_token}"})
    assert response.status_code == 200 and response.headers.get("Cache-Control") == "no-store"


def test_static_files_keep_their_caching(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200 and "no-store" not in (response.headers.get("Cache-Control") or "")


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    secure = client.get("/healthz", base_url="https://localhost")
    assert secure.headers.get("Strict-Transport-Security", "").startswith("max-age=")


def test_session_cookie_is_secure_over_https_without_any_setting(app, site):
    make_user(app, "mod@news.example")
    assert "Secure" not in session_cookie(login(app.test_client(), "mod@news.example"))
    assert "Secure" in session_cookie(login(app.test_client(), "mod@news.example", request_options={"base_url": "https://localhost"}))


def test_behind_a_trusted_proxy_https_is_recognised(make_app, site):
    app = make_app(TRUSTED_PROXIES=1)
    make_user(app, "mod@news.example")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    response = login(app.test_client(), "mod@news.example", request_options={"headers": forwarded})
    assert "Secure" in session_cookie(response)
    assert response.headers.get("Strict-Transport-Security")


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(app, client):
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_a_negative_proxy_count_is_a_clear_configuration_error(make_app):
    with pytest.raises(ValueError, match="MODERATION_TRUSTED_PROXIES"):
        make_app(TRUSTED_PROXIES=-1)


# --- /readyz -------------------------------------------------------------------------------


def test_readyz_tells_anonymous_callers_only_up_or_down(make_app):
    down = make_app(scorer=False)
    outside = down.test_client().get("/readyz", environ_base=OUTSIDE)
    assert outside.status_code == 503
    assert outside.json == {"status": "unavailable"}
    assert "missing" not in outside.get_data(as_text=True)
    local = down.test_client().get("/readyz")  # the test client calls from 127.0.0.1
    assert local.status_code == 503
    assert local.json["scorer"]["loaded"] is False and local.json["scorer"]["reason"]


def test_readyz_ok_for_anyone_without_details(client):
    response = client.get("/readyz", environ_base=OUTSIDE)
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_reasons_for_operator_addresses_and_the_operator_token(make_app):
    app = make_app(scorer=False, OPERATOR_ADDRESSES="192.0.2.10, 203.0.113.0/24", OPERATOR_TOKEN="probe-token-123")
    client = app.test_client()
    assert "scorer" in client.get("/readyz", environ_base=OUTSIDE).json
    assert "scorer" in client.get("/readyz", environ_base={"REMOTE_ADDR": "192.0.2.10"}).json
    stranger = {"REMOTE_ADDR": "198.51.100.1"}
    assert "scorer" not in client.get("/readyz", environ_base=stranger).json
    with_token = client.get("/readyz", environ_base=stranger, headers={"Authorization": "Bearer probe-token-123"})
    assert with_token.status_code == 503 and "scorer" in with_token.json
    wrong = client.get("/readyz", environ_base=stranger, headers={"Authorization": "Bearer probe-token-124"})
    assert wrong.json == {"status": "unavailable"}


def test_a_local_proxy_does_not_make_every_client_an_operator(make_app):
    app = make_app(scorer=False, TRUSTED_PROXIES=1)
    client = app.test_client()  # the proxy connects from 127.0.0.1
    behind = client.get("/readyz", headers={"X-Forwarded-For": "203.0.113.50"})
    assert behind.status_code == 503 and behind.json == {"status": "unavailable"}
    assert "scorer" in client.get("/readyz", headers={"X-Forwarded-For": "127.0.0.1"}).json


def test_bad_operator_addresses_are_a_clear_configuration_error(make_app):
    with pytest.raises(ValueError, match="MODERATION_OPERATOR_ADDRESSES"):
        make_app(OPERATOR_ADDRESSES="10.0.0.0/8, not-an-address")
