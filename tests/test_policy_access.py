"""The role matrix of the policy page: editors of the site and admins in; moderators and outsiders out, by any route."""
from __future__ import annotations

import pytest

from moderation.extensions import db
from review_support import Reviewer, make_user
from support import make_site

PAGES = ("/sites/{slug}/policy",)
POSTS = (
    ("/sites/{slug}/policy", {"action": "preview", "thresholds.toxicity.review": "0.5"}),
    ("/sites/{slug}/policy", {"action": "save", "thresholds.toxicity.review": "0.5", "base_version": "1"}),
    ("/sites/{slug}/policy/versions/1/restore", {"base_version": "1"}),
)


def policy_versions(app, slug: str) -> list[int]:
    import sqlalchemy as sa

    from moderation.models import PolicyVersion
    from moderation.sites import require

    with app.app_context():
        return list(db.session.scalars(sa.select(PolicyVersion.version)
                                       .where(PolicyVersion.site_id == require(slug).id)))


@pytest.fixture
def people(app, site):
    make_site(app, "other")
    for email, role in (("mod@news.example", "moderator"), ("ed@news.example", "editor"),
                        ("admin@example.org", "admin")):
        make_user(app, email, role=role)
    return {role: Reviewer(app.test_client(), email) for email, role in (
        ("mod@news.example", "moderator"), ("ed@news.example", "editor"), ("admin@example.org", "admin"))}


# (role, site) -> the answer every page and action of the policy workspace gives
MATRIX = [
    ("moderator", "news", 403),   # works on the site, but its policy is not theirs
    ("moderator", "other", 404),  # not their site: not even its existence is told
    ("moderator", "nope", 404),
    ("editor", "news", 200),
    ("editor", "other", 404),
    ("editor", "nope", 404),
    ("admin", "news", 200),
    ("admin", "other", 200),
    ("admin", "nope", 404),
]


@pytest.mark.parametrize("role,slug,expected", MATRIX)
def test_the_page_by_role_and_site(app, people, role, slug, expected):
    for path in PAGES:
        assert people[role].client.get(path.format(slug=slug)).status_code == expected, (role, slug, path)


@pytest.mark.parametrize("role,slug,expected", [row for row in MATRIX if row[2] != 200])
def test_crafted_posts_are_refused_and_change_nothing(app, people, role, slug, expected):
    before = {s: policy_versions(app, s) for s in ("news", "other")}
    for path, data in POSTS:
        response = people[role].post(path.format(slug=slug), data, fetch=False)
        assert response.status_code == expected, (role, slug, path)
    assert {s: policy_versions(app, s) for s in ("news", "other")} == before


def test_editors_and_admins_get_the_top_bar_link_and_moderators_do_not(app, people):
    for role, shown in (("moderator", False), ("editor", True), ("admin", True)):
        page = people[role].client.get("/review/").get_data(as_text=True)
        assert ('href="/policy"' in page) is shown, role
    assert people["moderator"].client.get("/policy").status_code == 403
    editor = people["editor"].client.get("/policy")
    assert editor.status_code == 302 and editor.headers["Location"].endswith("/sites/news/policy")
    listing = people["admin"].client.get("/policy").get_data(as_text=True)
    assert "/sites/news/policy" in listing and "/sites/other/policy" in listing


def test_signed_out_visitors_are_sent_to_sign_in(app, site):
    client = app.test_client()
    response = client.get("/sites/news/policy")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.post("/sites/news/policy", data={"action": "save"}).status_code in (302, 400, 401)
    assert policy_versions(app, "news") == [1]


def test_a_deactivated_editor_is_refused(app, people):
    from moderation.auth.users import by_email

    with app.app_context():
        by_email("ed@news.example").active = False
        db.session.commit()
    response = people["editor"].client.get("/sites/news/policy")
    # Flask-Login treats an inactive account as signed out (sent to sign in); either way, refused
    assert response.status_code in (302, 404), response.status_code
    assert response.status_code == 404 or "/auth/login" in response.headers["Location"]


def test_posts_without_a_csrf_token_are_refused(app, people):
    editor = people["editor"]
    for path, data in POSTS:
        response = editor.client.post(path.format(slug="news"), data=data)
        assert response.status_code == 400, path
        forged = editor.client.post(path.format(slug="news"), data={**data, "csrf_token": "forged"})
        assert forged.status_code == 400, path
    assert policy_versions(app, "news") == [1]
