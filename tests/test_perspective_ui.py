"""Admins manage Perspective API keys in the UI; moderators see the sentence behind each reason."""
from __future__ import annotations

import re

from perspective_support import analyze, new_key, request_body
from review_support import Reviewer, add_comment, make_user, moderator  # noqa: F401 (fixture)

_ISSUED = re.compile(r"<code data-issued-key>(pk_[^<]+)</code>")


def test_admin_creates_lists_and_revokes_keys(app, site):
    make_user(app, "admin@news.example", role="admin")
    admin = Reviewer(app.test_client(), "admin@news.example")
    page = admin.client.get("/admin/apikeys/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert 'href="/admin/apikeys/"' in admin.client.get("/review/").get_data(as_text=True)

    created = admin.post("/admin/apikeys/", {"site": "news"}, fetch=False)
    key = _ISSUED.search(created.get_data(as_text=True)).group(1)
    assert analyze(app.test_client(), key, request_body("hello there")).status_code == 200
    listing = admin.client.get("/admin/apikeys/").get_data(as_text=True)
    assert key[:11] in listing and key not in listing  # the prefix only, once the key was shown

    key_id = re.search(r'data-key-id="(\d+)"', listing).group(1)
    refused = admin.client.post(f"/admin/apikeys/{key_id}/revoke")  # no CSRF token
    assert refused.status_code == 400
    assert analyze(app.test_client(), key, request_body("hello there")).status_code == 200
    revoked = admin.post(f"/admin/apikeys/{key_id}/revoke", fetch=False)
    assert revoked.status_code == 302
    assert analyze(app.test_client(), key, request_body("hello there")).status_code == 400
    assert "revoked" in admin.client.get("/admin/apikeys/").get_data(as_text=True)


def test_only_admins_reach_the_keys_page(app, moderator):  # noqa: F811
    assert moderator.client.get("/admin/apikeys/").status_code == 403
    assert moderator.post("/admin/apikeys/", {"site": "news"}, fetch=False).status_code == 403
    assert app.test_client().get("/admin/apikeys/").status_code in (302, 401)
    assert 'href="/admin/apikeys/"' not in moderator.client.get("/review/").get_data(as_text=True)


def test_card_marks_the_sentence_behind_each_reason(app, moderator):  # noqa: F811
    text = "The weather is fine today. You are an idiot!"
    comment_id = add_comment(app, text=text, html=f"<p>{text}</p>",
                             reasons=[{"code": "toxicity", "score": 0.9, "threshold": 0.5}])
    page = moderator.client.get(f"/review/comments/{comment_id}").get_data(as_text=True)
    assert "Sentences behind the reasons" in page
    assert re.search(r'<mark title="Toxicity: 0\.\d\d">You are an idiot!</mark>', page)
    assert 'data-reason-sentence="toxicity"' in page


def test_card_without_model_reasons_shows_no_sentences(app, moderator):  # noqa: F811
    text = "The weather is fine today. You are an idiot!"
    comment_id = add_comment(app, text=text, html=f"<p>{text}</p>",
                             reasons=[{"code": "premoderation"}])
    page = moderator.client.get(f"/review/comments/{comment_id}").get_data(as_text=True)
    assert "Sentences behind the reasons" not in page


def test_new_key_cli_without_json(app, site):
    result = app.test_cli_runner().invoke(args=["apikey", "create", "news"])
    assert result.exit_code == 0 and "pk_" in result.output and "not shown again" in result.output
    missing = app.test_cli_runner().invoke(args=["apikey", "create", "nope", "--json"])
    assert missing.exit_code != 0 and "no site" in missing.output
    new_key(app)
    listing = app.test_cli_runner().invoke(args=["apikey", "list"])
    assert listing.output.count("news") == 2 and "active" in listing.output


def test_card_still_renders_when_the_model_is_down(make_app):
    from moderation.sites import create_site

    from moderation.extensions import db

    app = make_app(scorer=False)
    with app.app_context():
        create_site("news")
        db.session.commit()
    make_user(app, "mod@news.example")
    reviewer = Reviewer(app.test_client(), "mod@news.example")
    text = "<script>x</script> is here. You are an idiot!"
    comment_id = add_comment(app, text=text, reasons=[{"code": "toxicity", "score": 0.9, "threshold": 0.5}])
    page = reviewer.client.get(f"/review/comments/{comment_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Sentences behind the reasons" not in body and "<script>x" not in body


def test_sending_the_key_form_again_creates_no_second_key(app, site):
    """The new key is shown on the POST's own page, so a reload offers to send the form again."""
    make_user(app, "admin@news.example", role="admin")
    admin = Reviewer(app.test_client(), "admin@news.example")
    form = admin.client.get("/admin/apikeys/").get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)
    first = admin.post("/admin/apikeys/", {"site": "news", "form_token": token}, fetch=False)
    assert _ISSUED.search(first.get_data(as_text=True))
    again = admin.post("/admin/apikeys/", {"site": "news", "form_token": token}, fetch=False)
    assert again.status_code == 302
    listing = admin.client.get("/admin/apikeys/").get_data(as_text=True)
    assert listing.count("data-key-id=") == 1 and "already sent" in listing
    other = re.search(r'name="form_token" value="([^"]+)"', listing).group(1)  # a new form: a new key
    assert _ISSUED.search(admin.post("/admin/apikeys/", {"site": "news", "form_token": other},
                                     fetch=False).get_data(as_text=True))
    assert admin.client.get("/admin/apikeys/").get_data(as_text=True).count("data-key-id=") == 2
