"""Rate limits: only signed requests use a site's quota, and the limits hold across processes (and Redis)."""
from __future__ import annotations

import json
import multiprocessing
import secrets

import pytest
from limits.storage import Storage

from moderation import create_app
from review_support import login, make_user
from support import comment_payload, sign
from support import make_site, signed_post

REDIS_URL = "redis://127.0.0.1:6379"


def test_unsigned_posts_do_not_use_up_the_site_quota(make_app):
    app = make_app(RATELIMIT_WEBHOOK="5 per minute", RATELIMIT_WEBHOOK_UNSIGNED="1000 per minute")
    client = app.test_client()
    credentials = make_site(app, "target")
    body = json.dumps(comment_payload("x")).encode()
    for _ in range(30):  # the 1,300 text/plain posts, scaled to the configured limit
        assert client.post("/api/v1/sites/target/comments", data=body,
                           headers={"Content-Type": "text/plain"}).status_code == 415
    assert signed_post(client, "target", credentials.secret, comment_payload("real")).status_code == 200


def test_unsigned_refusals_are_limited_per_address_without_blocking_signed_ones(make_app):
    app = make_app(RATELIMIT_WEBHOOK="100 per minute", RATELIMIT_WEBHOOK_UNSIGNED="3 per minute")
    client = app.test_client()
    credentials = make_site(app, "target")
    body = json.dumps(comment_payload("x")).encode()
    statuses = [client.post("/api/v1/sites/target/comments", data=body,
                            headers={"Content-Type": "text/plain"}).status_code for _ in range(5)]
    assert statuses == [415, 415, 415, 429, 429]
    limited = client.post("/api/v1/sites/target/comments", data=body, headers={"Content-Type": "application/json"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # Another address still has its own budget; the publisher's signed request is never held back.
    other = client.post("/api/v1/sites/target/comments", data=body, headers={"Content-Type": "text/plain"},
                        environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 415
    assert signed_post(client, "target", credentials.secret, comment_payload("real")).status_code == 200


def test_default_storage_is_a_file_in_the_instance_folder(tmp_path, database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "TESTING": True,
                      "RATELIMIT_STORAGE_URI": None})
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("sqlite:///")
    assert app.config["RATELIMIT_STORAGE_URI"].endswith("/instance/ratelimits.sqlite3")


def _signed_invalid_posts(config: dict, slug: str, secret: str, n: int, results) -> None:
    """In a separate process: n signed requests (invalid, so no scoring) through a fresh app."""
    app = create_app(config)
    client = app.test_client()
    statuses = []
    for i in range(n):
        body = json.dumps({"id": f"p{i}"}).encode()  # no body: 422, but signed, so it counts
        headers = sign(secret, body, message_id=f"msg_{i}") | {"Content-Type": "application/json"}
        statuses.append(client.post(f"/api/v1/sites/{slug}/comments", data=body, headers=headers).status_code)
    results.put(statuses)


def _failed_sign_ins(config: dict, n: int, results) -> None:
    app = create_app(config)
    client = app.test_client()
    results.put([login(client, "mod@news.example", "wrong password!").status_code for _ in range(n)])


def _in_two_processes(target, *args, one_after_the_other: bool = False) -> list[int]:
    """Statuses from two forked processes, each with its own app (as two gunicorn workers)."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=target, args=(*args, results)) for _ in range(2)]
    statuses: list[int] = []
    for process in processes:
        process.start()
        if one_after_the_other:
            statuses += results.get(timeout=120)
            process.join(timeout=60)
    if not one_after_the_other:
        statuses = [status for _ in processes for status in results.get(timeout=120)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return statuses


@pytest.fixture(params=["file", "redis"])
def storage(request, tmp_path):
    if request.param == "file":
        return {"RATELIMIT_STORAGE_URI": "sqlite://" + str(tmp_path / "shared.sqlite3")}
    redis = pytest.importorskip("redis", reason="the redis client is not installed")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable ({error}); the Redis storage is not tested")
    # A prefix of its own, so runs side by side on one Redis do not share counters.
    return {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": "test-" + secrets.token_hex(4)}


def test_webhook_limit_holds_across_processes(make_app, storage):
    app = make_app(RATELIMIT_WEBHOOK="6 per minute", **storage)
    credentials = make_site(app, "shared")
    statuses = _in_two_processes(_signed_invalid_posts, dict(app.config), "shared",
                                 credentials.secret, 5)
    assert sorted(statuses) == [422] * 6 + [429] * 4


def test_sign_in_limit_holds_across_processes(make_app, site, storage):
    app = make_app(RATELIMIT_LOGIN_EMAIL="4 per 15 minutes", **storage)
    make_user(app, "mod@news.example")
    # One after the other: a failed sign-in is counted after its password check, so two at once
    # can both pass the check before either is counted (Flask-Limiter's deduct_when).
    statuses = _in_two_processes(_failed_sign_ins, dict(app.config), 4, one_after_the_other=True)
    assert statuses == [200] * 4 + [429] * 4


class Unreachable(Storage):
    """A counters' store that is down: every call fails as a refused connection does, and is counted."""

    STORAGE_SCHEME = ["unreachable"]
    calls = 0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return ConnectionError

    def _fail(self, *args, **kwargs):
        type(self).calls += 1
        raise ConnectionError("connection refused")

    incr = get = get_expiry = reset = clear = _fail

    def check(self) -> bool:
        type(self).calls += 1
        return False


def test_storage_down_counts_in_the_process_and_refuses_no_publisher_within_its_quota(make_app, caplog):
    """With the shared store down, each process counts on its own (a publisher within its quota is never
    refused; past it, it is, as in a single process), and asks the store again only after a pause."""
    Unreachable.calls = 0
    app = make_app(RATELIMIT_STORAGE_URI="unreachable://", RATELIMIT_WEBHOOK="2 per minute")
    credentials = make_site(app, "nostore")
    client = app.test_client()
    statuses = [signed_post(client, "nostore", credentials.secret, comment_payload(f"n{n}")).status_code
                for n in range(4)]
    assert statuses == [200, 200, 429, 429]
    assert Unreachable.calls == 1, "each request waited on the store that is down"
    said = [r.getMessage() for r in caplog.records if "rate limit storage" in r.getMessage()]
    assert len(said) == 1 and "counting in this process" in said[0]


def test_storage_down_still_signs_moderators_in_and_limits_guessing(make_app, site):
    """Sign-in answers (no 500) and its per-email limit holds in the process (Flask-Limiter's fallback)."""
    app = make_app(RATELIMIT_STORAGE_URI="unreachable://", RATELIMIT_LOGIN_EMAIL="3 per 15 minutes")
    make_user(app, "mod@news.example")
    client = app.test_client()
    assert login(client, "mod@news.example").status_code == 302  # the right password: signed in
    other = app.test_client()
    statuses = [login(other, "mod@news.example", "wrong password!").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_redis_storage_gives_up_quickly_by_default(make_app):
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1")
    options = app.config["RATELIMIT_STORAGE_OPTIONS"]
    assert 0 < options["socket_connect_timeout"] <= 1 and 0 < options["socket_timeout"] <= 1
    kept = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1", RATELIMIT_STORAGE_OPTIONS={"socket_timeout": 5})
    assert kept.config["RATELIMIT_STORAGE_OPTIONS"] == {"socket_timeout": 5}
    assert "RATELIMIT_STORAGE_OPTIONS" not in make_app().config  # the SQLite file takes none
