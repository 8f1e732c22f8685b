"""The policy page: its fields, validation next to each field, saving versions with author and note, restoring."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.policy import CATEGORIES
from review_support import Reviewer, make_user

FIELD_RE = re.compile(r'name="([^"]+)"')


@pytest.fixture
def editor(app, site):
    make_user(app, "ed@news.example", role="editor")
    return Reviewer(app.test_client(), "ed@news.example")


def form_values(page: str) -> dict[str, str]:
    """The values the page's policy form would submit (inputs and textareas)."""
    form = page[page.index('data-policy-form'):page.index("</form>", page.index("data-policy-form"))]
    values = {}
    for tag in re.finditer(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag.group(0))
        if not name:
            continue
        if 'type="checkbox"' in tag.group(0):
            if " checked" in tag.group(0):
                values[name.group(1)] = "on"
            continue
        value = re.search(r'value="([^"]*)"', tag.group(0))
        values[name.group(1)] = value.group(1) if value else ""
    for area in re.finditer(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        values[area.group(1)] = area.group(2)
    values.pop("csrf_token", None)
    return values


def versions(app) -> list:
    from moderation.models import PolicyVersion

    with app.app_context():
        rows = db.session.scalars(sa.select(PolicyVersion).order_by(PolicyVersion.version)).all()
        return [{"version": r.version, "author": r.author, "note": r.note, "document": r.document,
                 "restored_from": r.restored_from, "created_by_id": r.created_by_id} for r in rows]


def audit(app, prefix: str = "policy.") -> list:
    from moderation.models import AuditEntry

    with app.app_context():
        return [(e.action, e.actor_id, e.details) for e in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.id))]


def submit(editor: Reviewer, values: dict, action: str = "save", **changes):
    data = {**values, **changes, "action": action}
    return editor.post("/sites/news/policy", data, fetch=False)


def test_the_form_is_named_after_the_policy_document(app, editor):
    page = editor.client.get("/sites/news/policy").get_data(as_text=True)
    names = set(FIELD_RE.findall(page))
    for category in CATEGORIES:
        assert {f"thresholds.{category}.review", f"thresholds.{category}.reject"} <= names
    assert {"banned_words", "suspect_words", "premoderation", "note", "window", "action"} <= names
    values = form_values(page)
    assert values["thresholds.identity_attack.review"] == "0.6" and values["thresholds.obscene.reject"] == ""
    assert "detoxify-unbiased" in page and "covering en" in page
    assert 'type="range"' in page and "js/policy.js" in page
    assert "<script>" not in page and " style=" not in page and " onclick" not in page


def test_saving_makes_a_new_version_with_author_note_and_audit(app, editor):
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    response = submit(editor, values, **{"thresholds.identity_attack.review": "0.45", "banned_words": "kike\nscum",
                                         "note": "Hold more identity attacks during the election"})
    assert response.status_code == 303, response.get_data(as_text=True)
    saved = versions(app)[-1]
    assert saved["version"] == 2 and saved["author"] == "ed@news.example" and saved["created_by_id"] is not None
    assert saved["note"] == "Hold more identity attacks during the election"
    assert saved["document"]["thresholds"]["identity_attack"] == {"review": 0.45, "reject": 0.9}
    assert saved["document"]["banned_words"] == ["kike", "scum"]
    assert audit(app)[-1][:2] == ("policy.saved", "ed@news.example")
    page = editor.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved policy version 2" in page
    history = page[page.index('id="history"'):]
    assert "Identity attack review: 0.6 → <strong>0.45</strong>" in history
    assert "Banned words added: <q>kike</q>, <q>scum</q>" in history
    assert "by ed@news.example" in history and "Hold more identity attacks" in history
    # the CLI exports what the page saved: one model
    exported = json.loads(app.test_cli_runner().invoke(args=["policy", "export", "news"]).output)
    assert exported == saved["document"]


def test_each_word_shows_what_the_normaliser_also_catches(app, editor):
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    page = submit(editor, values, "preview", banned_words="kike\n").get_data(as_text=True)
    entry = re.search(r"<li><q>kike</q>(.*?)</li>", page, re.S).group(1)
    assert "also catches" in entry
    for spelling in ("k1ke", "k.i.k.e", "k*ke"):
        assert f">{spelling}</code>" in entry


@pytest.mark.parametrize("field,value,message", [
    ("thresholds.toxicity.reject", "0.5", "reject (0.5) is below review (0.8)"),
    ("thresholds.threat.review", "1.5", "must be from 0 to 1; got 1.5"),
    ("thresholds.insult.review", "-0.1", "must be from 0 to 1"),
    ("thresholds.insult.reject", "high", "enter a number from 0 to 1"),
    ("banned_words", "idiot\n***\n", "line 2: '***' has no letters, so it can never match"),
    ("banned_words", "kike\nK1KE", "line 2: 'K1KE' is the same word as 'kike' once normalised (line 1)"),
    ("suspect_words", "dictator\ndictator", "line 2: 'dictator' is listed again (line 1)"),
    ("note", "x" * 501, "at most 500 characters"),
])
def test_invalid_fields_are_explained_next_to_the_field_and_nothing_is_saved(app, editor, field, value, message):
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    # a valid change beside the invalid one: it must not be saved either
    response = submit(editor, values, **{field: value, "thresholds.identity_attack.review": "0.3"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field_id = "f-" + field.replace(".", "-").replace("_", "-")
    errors = re.search(rf'<ul class="field-errors" id="{field_id}-errors">(.*?)</ul>', page, re.S)
    assert errors and message in errors.group(1).replace("&#39;", "'"), page[-3000:]
    assert f'aria-describedby="{field_id}-errors"' in page or field == "note"
    assert "Nothing was saved" in page
    # the editor's input is kept to correct, and the valid edit stays marked as a change
    assert 'value="0.3"' in page
    assert re.search(r'<div class="level changed">\s*<label class="visually-hidden" '
                     r'for="f-thresholds-identity-attack-review">', page)
    # the list of errors names fields in words, linked to them
    summary = re.search(r'<div class="notice notice-error"(.*?)</div>', page, re.S).group(1)
    assert f'href="#{field_id}"' in summary and field not in summary.split("</a>")[0].split(">")[-1]
    assert [v["version"] for v in versions(app)] == [1]


def test_a_word_in_both_lists_is_refused(app, editor):
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    response = submit(editor, values, banned_words="scum", suspect_words="SCUM")
    assert response.status_code == 422
    assert "is also a banned word" in response.get_data(as_text=True)


def test_a_save_over_someone_elses_newer_version_is_refused(app, editor):
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    make_user(app, "other@news.example", role="editor")
    other = Reviewer(app.test_client(), "other@news.example")
    assert submit(other, values, **{"thresholds.toxicity.review": "0.7"}).status_code == 303
    response = submit(editor, values, **{"thresholds.threat.review": "0.5"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "version 2 was saved by other@news.example" in page
    assert [v["version"] for v in versions(app)] == [1, 2]
    # the page now bases on version 2: saving again (having seen it) works, and keeps the editor's value
    again = form_values(page)
    assert again["base_version"] == "2" and again["thresholds.threat.review"] == "0.5"
    assert submit(editor, again).status_code == 303
    assert versions(app)[-1]["document"]["thresholds"]["threat"]["review"] == 0.5


def test_saving_the_same_policy_adds_no_version(app, editor):
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    response = submit(editor, values)
    assert response.status_code == 409 and "Nothing saved" in response.get_data(as_text=True)
    assert [v["version"] for v in versions(app)] == [1]


def test_restore_copies_an_old_version_as_a_new_one(app, editor):
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    original = versions(app)[0]["document"]
    assert submit(editor, values, **{"thresholds.identity_attack.review": "0.2", "premoderation": "on"}).status_code == 303
    page = editor.client.get("/sites/news/policy").get_data(as_text=True)
    assert "Restore version 1" in page and "Restore version 2" not in page  # the current one has no button
    response = editor.post("/sites/news/policy/versions/1/restore", {"base_version": "2"}, fetch=False)
    assert response.status_code == 303
    restored = versions(app)[-1]
    assert restored["version"] == 3 and restored["restored_from"] == 1 and restored["document"] == original
    assert restored["author"] == "ed@news.example" and restored["note"] == "restored version 1"
    assert audit(app)[-1][0] == "policy.restored" and audit(app)[-1][2]["restored_from"] == 1
    page = editor.client.get("/sites/news/policy").get_data(as_text=True)
    assert "Restored version 1 as the new version 3" in page and "restored from version 1" in page
    assert "Pre-moderation off" in page and "Identity attack review: 0.2 → <strong>0.6</strong>" in page
    # restoring what is already current, or a version that does not exist, adds nothing
    again = editor.post("/sites/news/policy/versions/1/restore", {"base_version": "3"}, fetch=False)
    assert again.status_code == 303 and "Not restored" in editor.client.get("/sites/news/policy").get_data(as_text=True)
    assert editor.post("/sites/news/policy/versions/99/restore", {"base_version": "3"}, fetch=False).status_code == 404
    assert [v["version"] for v in versions(app)] == [1, 2, 3]


def test_decisions_keep_the_version_they_were_made_under(app, editor, post_comment, site):
    from support import comment_payload

    first = post_comment(comment_payload("c1", "<p>A calm remark about the park.</p>")).json
    assert first["policy_version"] == 1
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    assert submit(editor, values, **{"thresholds.toxicity.review": "0.5"}).status_code == 303
    second = post_comment(comment_payload("c2", "<p>Another calm remark.</p>")).json
    assert second["policy_version"] == 2
    stored = app.test_client().get("/api/v1/sites/news/comments/c1",
                                   headers={"Authorization": f"Bearer {site.api_token}"}).json
    assert stored["policy_version"] == 1


def test_cli_import_records_the_actor(app, runner, site, tmp_path, monkeypatch):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"premoderation": True}))
    result = runner.invoke(args=["policy", "import", "news", str(path), "--actor", "chief@news.example",
                                 "--note", "election night"])
    assert result.exit_code == 0, result.output
    assert versions(app)[-1]["author"] == "chief@news.example" and versions(app)[-1]["note"] == "election night"
    monkeypatch.setattr("getpass.getuser", lambda: "deploy")
    path.write_text(json.dumps({"premoderation": False}))
    assert runner.invoke(args=["policy", "import", "news", str(path)]).exit_code == 0
    assert versions(app)[-1]["author"] == "deploy" and versions(app)[-1]["note"] == f"imported from {path}"

    def nameless():
        raise KeyError("getpwuid(): uid not found: 1234")

    monkeypatch.setattr("getpass.getuser", nameless)
    refused = runner.invoke(args=["policy", "import", "news", str(path), "--actor", "  "])
    assert refused.exit_code != 0 and "--actor EMAIL" in refused.output
    assert len(versions(app)) == 3


def test_the_demo_prints_an_editor_account_that_reaches_the_policy_page(app, runner):
    import socket

    from review_support import login

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = runner.invoke(args=["demo", "--no-serve", "--port", str(port)])
    assert result.exit_code == 0, result.output
    password = re.search(r"editor@demo\.example  password: (\S+)", result.output).group(1)
    assert f"http://127.0.0.1:{port}/sites/demo/policy" in result.output
    client = app.test_client()
    assert login(client, "editor@demo.example", password).status_code == 302
    page = client.get("/sites/demo/policy")
    assert page.status_code == 200 and "Policy for Demo newsroom" in page.get_data(as_text=True)
