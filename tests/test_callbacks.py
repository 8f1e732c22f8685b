"""Callback delivery against a real HTTP receiver on 127.0.0.1: signing, failures, backoff, 410, redelivery."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from moderation.callbacks import outbox as ops
from moderation.callbacks.delivery import DeliveryResult
from moderation.extensions import db
from moderation.models import OutboxMessage, Site
from moderation.worker import Worker
from test_callbacks_support import Clock, outbox, post, receiver  # noqa: F401 (fixture)
from review_support import login, make_user
from support import make_site


@pytest.fixture
def setup(make_app, receiver):
    """A site whose comments went in while the model was down, and a worker (with a model) on a clock."""
    intake = make_app(scorer=False)
    credentials = make_site(intake, callback_url=receiver.url)
    clock = Clock()
    app = make_app(CALLBACK_ALLOW_PRIVATE=True, CALLBACK_TIMEOUT=1.0, CALLBACK_LEASE_SECONDS=30.0)
    worker = Worker(app, clock=clock)
    return intake, app, credentials, worker, clock


def deliver(worker: Worker) -> int:
    with worker.app.app_context():
        return worker.deliver_callbacks()


def only_message(app) -> OutboxMessage:
    [message] = outbox(app)
    return message


def test_pending_comment_decided_by_worker_gets_a_signed_callback(setup, receiver):
    intake, app, credentials, worker, clock = setup
    assert post(intake, credentials, "c1", "<p>What a lovely park.</p>").get_json()["status"] == "pending"
    worker.run_once()
    [request] = receiver.requests
    # The receiver verifies with the reference library, over the raw body.
    event = Webhook(credentials.secret).verify(request.body, request.headers)
    assert event["type"] == "comment.moderated"
    assert event["data"]["external_id"] == "c1" and event["data"]["status"] == "approved"
    assert request.headers["Content-Type"] == "application/json"
    message = only_message(app)
    assert message.status == "delivered" and message.webhook_id == request.headers["webhook-id"]
    assert message.last_status_code == 200 and message.attempts == 1


def test_down_slow_500_429_410_then_delivered_with_one_webhook_id(setup, receiver):
    intake, app, credentials, worker, clock = setup
    post(intake, credentials, "c1", "<p>You idiot.</p>")
    with app.app_context():
        worker.score_pending()

    receiver.stop()  # down: connection refused
    before = clock.now
    deliver(worker)
    after = clock.now
    message = only_message(app)
    assert message.status == "pending" and message.attempts == 1
    assert message.last_error == f"connection to 127.0.0.1:{receiver.port} failed: [Errno 111] Connection refused"
    # 5 s on the Standard Webhooks schedule, +-20% jitter, counted from the attempt (between before and after:
    # the clock runs on while a slow machine makes it)
    assert before + timedelta(seconds=4) <= message.next_attempt_at <= after + timedelta(seconds=6)
    assert deliver(worker) == 0  # not due yet

    receiver.start()
    receiver.mode, receiver.delay = "slow", 3.0  # longer than CALLBACK_TIMEOUT
    clock.to(message.next_attempt_at)
    deliver(worker)
    message = only_message(app)
    assert message.attempts == 2 and message.last_error == "no answer within 1 s"
    assert timedelta(minutes=4) <= message.next_attempt_at - clock.now <= timedelta(minutes=6)

    receiver.mode, receiver.delay = "error", 0.0
    clock.to(message.next_attempt_at)
    deliver(worker)
    message = only_message(app)
    assert message.last_status_code == 500 and message.last_error == "HTTP 500: database is down"

    receiver.mode, receiver.retry_after = "ratelimit", "9000"  # 2.5 h, longer than the 2 h +-20% step
    clock.to(message.next_attempt_at)
    deliver(worker)
    message = only_message(app)
    assert message.last_status_code == 429
    assert message.next_attempt_at - clock.now >= timedelta(hours=2, minutes=29)

    receiver.mode = "gone"
    clock.to(message.next_attempt_at)
    deliver(worker)
    message = only_message(app)
    assert message.status == "pending", "a 410 pauses the endpoint; its messages are kept"
    with app.app_context():
        site = db.session.scalar(sa.select(Site))
        assert site.callback_disabled_at is not None and "410" in site.callback_disabled_reason
    clock.advance(hours=1)
    assert deliver(worker) == 0, "nothing goes to a disabled endpoint"

    receiver.mode = "ok"
    with app.app_context():
        ops.enable_endpoint(db.session.scalar(sa.select(Site)), actor_type="cli")
        db.session.commit()
    deliver(worker)
    message = only_message(app)
    assert message.status == "delivered" and message.attempts == 6
    ids = set(receiver.webhook_ids())
    assert ids == {message.webhook_id}, "every retry carries the same webhook-id"
    assert len(receiver.requests) == 5  # the refused attempt never reached it


def test_retry_after_http_date_is_honoured(setup, receiver):
    intake, app, credentials, worker, clock = setup
    post(intake, credentials, "c1", "<p>Fine words.</p>")
    with app.app_context():
        worker.score_pending()
    receiver.mode = "ratelimit"
    receiver.retry_after = "Wed, 21 Oct 2099 07:28:00 GMT"
    deliver(worker)
    message = only_message(app)
    # Far-future dates are capped at a day so a receiver cannot park a message forever.
    assert timedelta(hours=23) <= message.next_attempt_at - clock.now <= timedelta(days=1, seconds=1)


def test_redirects_are_not_followed(setup, receiver):
    intake, app, credentials, worker, clock = setup
    post(intake, credentials, "c1", "<p>Fine words.</p>")
    with app.app_context():
        worker.score_pending()
    receiver.mode = "redirect"
    deliver(worker)
    message = only_message(app)
    assert [r.path for r in receiver.requests] == ["/hooks"]
    assert message.status == "pending" and message.last_status_code == 302
    assert "redirects are not followed" in message.last_error


def test_gives_up_after_about_three_days_then_admin_redelivers(setup, receiver, make_app):
    intake, app, credentials, worker, clock = setup
    post(intake, credentials, "c1", "<p>Fine words.</p>")
    with app.app_context():
        worker.score_pending()
    receiver.mode = "error"
    started = clock.now
    while only_message(app).status == "pending":
        clock.to(only_message(app).next_attempt_at)
        deliver(worker)
    message = only_message(app)
    assert message.status == "failed" and message.attempts == 12
    assert message.last_error == "HTTP 500: database is down"
    assert timedelta(days=2, hours=6) < clock.now - started < timedelta(days=3, hours=12)

    runner = app.test_cli_runner()
    listed = runner.invoke(args=["callbacks", "list", "--failed"])
    assert listed.exit_code == 0 and message.webhook_id in listed.output and "HTTP 500" in listed.output
    receiver.mode = "ok"
    again = runner.invoke(args=["callbacks", "redeliver", "--all-failed"])
    assert again.exit_code == 0 and "Queued 1" in again.output, again.output
    deliver(worker)
    message = only_message(app)
    assert message.status == "delivered" and set(receiver.webhook_ids()) == {message.webhook_id}


def test_expired_lease_is_retried_and_the_stale_outcome_dropped(setup, receiver):
    intake, app, credentials, worker, clock = setup
    post(intake, credentials, "c1", "<p>Fine words.</p>")
    with app.app_context():
        worker.score_pending()
        [first] = ops.claim_due(clock(), limit=10, lease=timedelta(seconds=30))
        assert ops.claim_due(clock(), limit=10, lease=timedelta(seconds=30)) == [], "leased"
    # The first worker "dies" here. After the lease, another takes the same message.
    clock.advance(seconds=31)
    with app.app_context():
        [second] = ops.claim_due(clock(), limit=10, lease=timedelta(seconds=30))
        assert second.webhook_id == first.webhook_id and second.attempt == first.attempt + 1
        assert ops.record_outcome(second, DeliveryResult(True, 200), clock()) == "delivered"
        # The presumed-dead worker comes back with a failure: it must not undo the delivery.
        assert ops.record_outcome(first, DeliveryResult(False, 500, "HTTP 500"), clock()) == "lost-lease"
    assert only_message(app).status == "delivered"


def test_stopping_worker_hands_back_a_claim_it_has_not_started(setup, receiver):
    from moderation.callbacks.dispatch import deliver_due

    intake, app, credentials, worker, clock = setup
    for n in range(3):
        post(intake, credentials, f"c{n}", f"<p>Fine words number {n}.</p>")
    with app.app_context():
        worker.score_pending()
        # SIGTERM arrives while the first claim is being taken.
        answers = iter([False, True])
        claimed = deliver_due(worker.http, clock=clock, limit=10, lease=timedelta(seconds=30), timeout=1,
                              should_stop=lambda: next(answers, True))
    assert claimed == 1 and receiver.requests == []
    assert all(m.status == "pending" and m.attempts == 0 and m.next_attempt_at <= clock.now
               for m in outbox(app))


def test_admin_page_lists_failed_and_redelivers(setup, receiver):
    from moderation.auth.users import create_user

    intake, app, credentials, worker, clock = setup
    post(intake, credentials, "c1", "<p>Fine words.</p>")
    with app.app_context():
        worker.score_pending()
        db.session.execute(sa.update(OutboxMessage).values(status="failed", last_status_code=503,
                                                           last_error="HTTP 503: maintenance"))
        create_user("admin@example.org", role="admin", password="a long admin password")
        create_user("mod@example.org", role="moderator", password="a long moderator password",
                    sites=[db.session.scalar(sa.select(Site))])
        db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.get("/admin/callbacks/").status_code in (302, 401)
    client.post("/auth/login", data={"email": "mod@example.org", "password": "a long moderator password"})
    assert client.get("/admin/callbacks/").status_code == 403
    assert 'href="/admin/callbacks/"' not in client.get("/review/").get_data(as_text=True)
    client = app.test_client()
    client.post("/auth/login", data={"email": "admin@example.org", "password": "a long admin password"})
    assert 'href="/admin/callbacks/"' in client.get("/review/").get_data(as_text=True)
    page = client.get("/admin/callbacks/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "HTTP 503: maintenance" in html and only_message(app).webhook_id in html and "Redeliver" in html
    # The tabs count each state; the comment links to its card.
    assert '<span class="count" data-count="failed">1</span>' in html
    assert '<span class="count" data-count="delivered">0</span>' in html
    assert f'<a href="/review/comments/{only_message(app).comment_id}">c1</a>' in html
    assert client.get(f"/review/comments/{only_message(app).comment_id}").status_code == 200
    response = client.post(f"/admin/callbacks/{only_message(app).id}/redeliver")
    assert response.status_code == 302
    assert only_message(app).status == "pending"


def test_admin_page_counts_callbacks_waiting_for_a_callback_url(make_app, receiver):
    intake = make_app(scorer=False)
    without_url = make_site(intake, "gazette")  # no callback URL yet
    with_url = make_site(intake, "news", callback_url=receiver.url)
    for comment_id in ("g1", "g2"):
        post(intake, without_url, comment_id, "<p>Fine words about the park.</p>")
    post(intake, with_url, "n1", "<p>Fine words about the park.</p>")
    app = make_app(CALLBACK_ALLOW_PRIVATE=True, CALLBACK_TIMEOUT=2.0)
    make_user(app, "admin@example.org", role="admin")
    worker = Worker(app, clock=Clock())
    worker.run_once()  # scores all three; only news's callback can go out
    assert len(receiver.requests) == 1
    client = app.test_client()
    login(client, "admin@example.org")

    html = client.get("/admin/callbacks/").get_data(as_text=True)
    assert "Waiting for a callback URL" in html
    assert "2 callbacks are kept because their site has no callback URL yet. They go out once a URL is set" in html
    assert "<tr><td>gazette</td><td>2</td></tr>" in html and "<td>news</td>" not in html

    with app.app_context():
        db.session.scalar(sa.select(Site).where(Site.slug == "gazette")).callback_url = receiver.url
        db.session.commit()
    worker.run_once()
    assert len(receiver.requests) == 3
    assert "Waiting for a callback URL" not in client.get("/admin/callbacks/").get_data(as_text=True)
