"""Sign-in: hashing, generic errors, throttling, session hygiene, idle timeout, sign-out, CSRF."""
from __future__ import annotations

import time

import sqlalchemy as sa

from moderation.auth.views import BAD_CREDENTIALS, THROTTLED
from moderation.extensions import db
from moderation.models import AuditEntry, User
from review_support import PASSWORD, csrf_token, login, make_user


def test_login_page_is_a_plain_form_with_csrf_and_strict_csp(client, site):
    page = client.get("/auth/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="csrf_token"' in html and 'name="password"' in html
    csp = page.headers["Content-Security-Policy"]
    for rule in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert rule in csp
    assert "unsafe-inline" not in csp
    assert " style=" not in html and "<script>" not in html


def test_password_is_stored_as_argon2id(app, site):
    make_user(app, "mod@news.example")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "mod@news.example"))
        assert user.password_hash.startswith("$argon2id$")


def test_sign_in_redirects_to_the_queue_with_a_safe_cookie(app, client, site):
    make_user(app, "mod@news.example")
    response = login(client, "MOD@news.example ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/review/")
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "Secure" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/review/").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.signed_in"))


def test_cookie_is_secure_when_configured(make_app, site):
    app = make_app(SESSION_COOKIE_SECURE=True)
    make_user(app, "mod@news.example")
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/auth/login", base_url="https://localhost",
                           data={"email": "mod@news.example", "password": PASSWORD, "csrf_token": token})
    session_cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert session_cookie and "Secure" in session_cookie[0]


def test_wrong_password_and_unknown_email_get_the_same_generic_answer(app, client, site):
    make_user(app, "mod@news.example")
    wrong = login(client, "mod@news.example", "not the password at all")
    unknown = login(client, "nobody@news.example", "not the password at all")
    assert wrong.status_code == unknown.status_code == 200
    assert BAD_CREDENTIALS in wrong.get_data(as_text=True)
    assert BAD_CREDENTIALS in unknown.get_data(as_text=True)
    assert client.get("/review/").status_code == 302  # still signed out


def test_inactive_user_cannot_sign_in(app, client, site):
    user_id = make_user(app, "mod@news.example")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert BAD_CREDENTIALS in login(client, "mod@news.example").get_data(as_text=True)


def test_failed_attempts_for_one_email_are_throttled_generically(make_app, site):
    app = make_app(RATELIMIT_LOGIN_EMAIL="3 per minute")
    make_user(app, "mod@news.example")
    client = app.test_client()
    for _ in range(3):
        assert login(client, "mod@news.example", "wrong password!").status_code == 200
    throttled = login(client, "mod@news.example")  # even the right password waits now
    assert throttled.status_code == 429
    assert THROTTLED in throttled.get_data(as_text=True)
    # Unknown accounts are throttled the same way: the answer tells nothing about existence.
    for _ in range(3):
        login(client, "ghost@news.example", "wrong password!")
    assert login(client, "ghost@news.example", "wrong password!").status_code == 429


def test_successful_sign_ins_do_not_use_up_the_budget(make_app, site):
    app = make_app(RATELIMIT_LOGIN_EMAIL="2 per minute")
    make_user(app, "mod@news.example")
    for _ in range(4):
        assert login(app.test_client(), "mod@news.example").status_code == 302


def test_failed_attempts_from_one_address_are_throttled(make_app, site):
    app = make_app(RATELIMIT_LOGIN_ADDRESS="3 per minute")
    client = app.test_client()
    for n in range(3):
        login(client, f"user{n}@news.example", "wrong password!")
    assert login(client, "other@news.example", "wrong password!").status_code == 429


def test_session_is_cleared_on_sign_in(app, client, site):
    make_user(app, "mod@news.example")
    csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    login(client, "mod@news.example")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.permanent


def test_next_parameter_stays_on_this_site(app, client, site):
    make_user(app, "mod@news.example")
    token = csrf_token(client)
    response = client.post("/auth/login?next=https://evil.example/x",
                           data={"email": "mod@news.example", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/review/"


def test_idle_session_expires_with_a_clear_message(make_app, site):
    app = make_app(SESSION_IDLE_MINUTES=5)
    make_user(app, "mod@news.example")
    client = app.test_client()
    login(client, "mod@news.example")
    assert client.get("/review/").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 6 * 60
    response = client.get("/review/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert "session has expired" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_expired_session_answers_fetches_with_401_json(make_app, site):
    app = make_app(SESSION_IDLE_MINUTES=5)
    make_user(app, "mod@news.example")
    client = app.test_client()
    login(client, "mod@news.example")
    token = csrf_token(client, "/review/")
    with client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 6 * 60
    response = client.post("/review/undo", headers={"Accept": "application/json", "X-CSRFToken": token})
    assert response.status_code == 401
    assert response.json["error"] == "session_expired"
    assert "Sign in again" in response.json["message"]


def test_sign_out_ends_the_session_and_old_cookies(app, client, site):
    make_user(app, "mod@news.example")
    login(client, "mod@news.example")
    token = csrf_token(client, "/review/")
    with client.session_transaction() as session:
        stolen = dict(session)
    response = client.post("/auth/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/review/").status_code == 302
    with client.session_transaction() as session:  # replay the session from before sign-out
        session.update(stolen)
    assert client.get("/review/").status_code == 302


def test_sign_out_without_csrf_token_is_refused(app, client, site):
    make_user(app, "mod@news.example")
    login(client, "mod@news.example")
    response = client.post("/auth/logout")
    assert response.status_code == 400
    assert client.get("/review/").status_code == 200  # still signed in


def test_sign_in_without_csrf_token_is_refused(app, client, site):
    make_user(app, "mod@news.example")
    response = client.post("/auth/login", data={"email": "mod@news.example", "password": PASSWORD})
    assert response.status_code != 200 or BAD_CREDENTIALS not in response.get_data(as_text=True)
    assert client.get("/review/").status_code == 302


def test_csrf_is_on_under_testing(app):
    # TESTING=True does not switch Flask-WTF's CSRF check off: the tests above rely on it.
    assert app.config["TESTING"] is True
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


def test_user_created_by_the_cli_can_sign_in(app, site):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "create", "cli@news.example", "--role", "moderator", "--site", "news",
                                 "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert login(app.test_client(), "cli@news.example").status_code == 302


def test_expired_session_sends_form_posts_to_sign_in_and_changes_nothing(make_app, site):
    from review_support import add_comment, comment_state

    app = make_app(SESSION_IDLE_MINUTES=5)
    make_user(app, "mod@news.example")
    comment_id = add_comment(app)
    client = app.test_client()
    login(client, "mod@news.example")
    token = csrf_token(client, "/review/")
    with client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 6 * 60
    response = client.post(f"/review/comments/{comment_id}/decision", headers={"Referer": "http://localhost/review/"},
                           data={"csrf_token": token, "decision": "approved", "expected_status": "queued"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=/review/")
    assert "session has expired" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert comment_state(app, comment_id)["status"] == "queued"
