"""Bad signed input gets a clear 4xx (never a 500), through the test client and a real threaded server."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from urllib.parse import quote

import pytest
import requests
from werkzeug.serving import make_server

from review_support import login, make_user
from support import comment_payload, make_site, sign
from test_webhook import assert_problem, count
from moderation.models import Comment


def standard_headers(secret: str, body: bytes, message_id: str = "msg_raw") -> dict[str, str]:
    """Standard Webhooks headers computed over raw bytes (the reference signer needs text)."""
    timestamp = str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": message_id, "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(digest).decode(), "Content-Type": "application/json"}


def post_raw(client, site, body: bytes):
    return client.post(f"/api/v1/sites/{site.slug}/comments", data=body, headers=standard_headers(site.secret, body))


@pytest.mark.parametrize("raw", [
    json.dumps(comment_payload("s1", "\ud800")).encode(),                   # lone surrogate in body
    json.dumps(comment_payload("\udfff")).encode(),                         # lone surrogate as id
    b'{"id": "deep", "body": "<p>x</p>", "article": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
], ids=["surrogate-body", "surrogate-id", "nested-arrays"])
def test_unreadable_json_is_400_not_500(app, client, site, raw):
    problem = assert_problem(post_raw(client, site, raw), 400)
    assert "not valid JSON" in problem["detail"]
    assert count(app, Comment) == 0


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_timestamps_outside_utc_range_are_422(app, post_comment, created_at):
    problem = assert_problem(post_comment(comment_payload("t1", created_at=created_at)), 422)
    assert problem["errors"][0]["field"] == "created_at"
    assert "outside the years 1 to 9999" in problem["errors"][0]["message"]
    assert count(app, Comment) == 0


def test_signed_body_that_is_not_utf8_is_400(app, client, site):
    raw = json.dumps(comment_payload("u1", "caf\u00e9"), ensure_ascii=False).encode("latin-1")
    problem = assert_problem(post_raw(client, site, raw), 400)
    assert "not UTF-8" in problem["detail"]
    assert count(app, Comment) == 0


@pytest.fixture
def served(make_app):
    """The app behind werkzeug's threaded server, on a real socket."""
    app = make_app(MAX_BODY_BYTES=4096)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def chunks(body: bytes, size: int = 1000):
    for start in range(0, len(body), size):
        yield body[start:start + size]


def test_chunked_bodies_over_the_limit_are_413_and_under_it_are_read_whole(served):
    app, base = served
    credentials = make_site(app, "chunked")
    small = json.dumps(comment_payload("ok", "<p>" + "fine words " * 200 + "</p>")).encode()
    assert 2000 < len(small) < 4096
    accepted = requests.post(f"{base}/api/v1/sites/chunked/comments", data=chunks(small),
                             headers=standard_headers(credentials.secret, small), timeout=60)
    assert accepted.status_code == 200, accepted.text
    big = json.dumps(comment_payload("big", "<p>" + "word " * 3000 + "</p>")).encode()
    refused = requests.post(f"{base}/api/v1/sites/chunked/comments", data=chunks(big),
                            headers=standard_headers(credentials.secret, big), timeout=60)
    assert refused.status_code == 413, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "larger than 4096 bytes" in refused.json()["detail"]
    assert count(app, Comment) == 1


@pytest.mark.parametrize("external_id", ["a/b", "news/2021/04/c-7", "with space/ü", "a%2Fb"])
def test_ids_with_slashes_are_read_back(client, site, post_comment, external_id):
    assert post_comment(comment_payload(external_id)).status_code == 200
    token = {"Authorization": f"Bearer {site.api_token}"}
    for path in (quote(external_id, safe="/"), quote(external_id, safe="")):
        response = client.get(f"/api/v1/sites/{site.slug}/comments/{path}", headers=token)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        assert response.get_json()["external_id"] == external_id


@pytest.mark.parametrize("external_id", ["/lead", "trail/", "a//b", "a/../b", "./a", "line\nbreak"])
def test_ids_a_url_cannot_carry_back_are_422(app, post_comment, external_id):
    problem = assert_problem(post_comment(comment_payload(external_id)), 422)
    assert problem["errors"][0]["field"] == "id"
    assert count(app, Comment) == 0


def test_ids_with_slashes_are_read_back_over_http(served):
    app, base = served
    credentials = make_site(app, "slashes")
    body = json.dumps(comment_payload("thread/7/c 9")).encode()
    assert requests.post(f"{base}/api/v1/sites/slashes/comments", data=body,
                         headers=sign(credentials.secret, body) | {"Content-Type": "application/json"},
                         timeout=60).status_code == 200
    response = requests.get(f"{base}/api/v1/sites/slashes/comments/{quote('thread/7/c 9', safe='')}",
                            headers={"Authorization": f"Bearer {credentials.api_token}"}, timeout=60)
    assert response.status_code == 200 and response.json()["external_id"] == "thread/7/c 9"


@pytest.mark.parametrize("article_id", ["news/2021/baku park", "статья-1", "a&b=c?d#e"])
def test_queue_for_this_article_link_works_for_any_accepted_article_id(app, client, site, post_comment,
                                                                        article_id):
    import re
    from html import unescape

    data = comment_payload("q1", "<p>Armenians are rightfully angry.</p>")
    data["article"]["id"] = article_id
    assert post_comment(data).status_code == 200
    other = comment_payload("q2", "<p>Another article's comment.</p>")
    other["article"]["id"] = "other"
    assert post_comment(other).status_code == 200
    make_user(app, "mod@news.example")
    assert login(client, "mod@news.example").status_code == 302
    with app.app_context():
        from moderation.extensions import db
        import sqlalchemy as sa
        comment_id = db.session.scalar(sa.select(Comment.id).where(Comment.external_id == "q1"))
    card = client.get(f"/review/comments/{comment_id}").get_data(as_text=True)
    [link] = re.findall(r'href="([^"]+)">\(queue for this article\)', card)
    queue = client.get(unescape(link).replace("status=queued", "status=approved"))
    assert queue.status_code == 200
    listed = queue.get_data(as_text=True)
    assert "rightfully angry" in listed and "Another article" not in listed


def test_chunked_body_over_the_limit_is_413_through_gunicorn(app, site, database_url, tiny_model, tmp_path):
    """gunicorn de-chunks the body itself (wsgi.input_terminated): the limit must hold there too."""
    from support import gunicorn_served

    env = {"MODERATION_MAX_BODY_BYTES": "4096",
           "MODERATION_RATELIMIT_STORAGE_URI": "sqlite://" + str(tmp_path / "limits.sqlite3")}
    with gunicorn_served(database_url, tiny_model, workers=1, env=env) as base:
        big = json.dumps(comment_payload("big", "<p>" + "word " * 3000 + "</p>")).encode()
        refused = requests.post(f"{base}/api/v1/sites/{site.slug}/comments", data=chunks(big),
                                headers=standard_headers(site.secret, big), timeout=60)
        assert refused.status_code == 413, refused.text
        small = json.dumps(comment_payload("small", "<p>Fine words.</p>")).encode()
        accepted = requests.post(f"{base}/api/v1/sites/{site.slug}/comments", data=chunks(small, 10),
                                 headers=standard_headers(site.secret, small), timeout=60)
        assert accepted.status_code == 200, accepted.text
