"""The `moderation` command: sites, users and policies, with clear errors."""
from __future__ import annotations

import json

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, PolicyVersion, Site, User


def test_site_create_json_prints_one_object(app, runner):
    result = runner.invoke(args=["site", "create", "paper", "--name", "The Paper", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"slug", "secret", "api_token"}
    assert data["slug"] == "paper" and data["secret"].startswith("whsec_")
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "paper"))
        assert site.name == "The Paper"
        assert site.api_token_hash != data["api_token"]  # only a hash is kept
        assert db.session.scalar(sa.select(PolicyVersion.version).where(PolicyVersion.site_id == site.id)) == 1


def test_site_create_refuses_duplicates_and_bad_slugs(runner):
    assert runner.invoke(args=["site", "create", "paper"]).exit_code == 0
    duplicate = runner.invoke(args=["site", "create", "paper"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    bad = runner.invoke(args=["site", "create", "Not A Slug"])
    assert bad.exit_code != 0 and "not valid" in bad.output


def test_site_update(app, runner):
    runner.invoke(args=["site", "create", "paper"])
    unknown = runner.invoke(args=["site", "update", "nope", "--rotate-secret"])
    assert unknown.exit_code != 0 and "no site" in unknown.output
    result = runner.invoke(args=["site", "update", "paper", "--callback-url", "https://paper.example/hook",
                                 "--coral-secret", "empsec_0123456789abcdef", "--rotate-secret"])
    assert result.exit_code == 0, result.output
    assert "new webhook secret: whsec_" in result.output
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "paper"))
        assert site.callback_url == "https://paper.example/hook"
        assert site.coral_secret == "empsec_0123456789abcdef"
        assert site.previous_secret and site.previous_secret_expires_at
    bad = runner.invoke(args=["site", "update", "paper", "--callback-url", "file:///etc/passwd"])
    assert bad.exit_code != 0 and "http or https" in bad.output


def test_user_create_with_password_stdin(app, runner):
    runner.invoke(args=["site", "create", "paper"])
    result = runner.invoke(args=["user", "create", "Mod@Paper.example", "--role", "moderator",
                                 "--site", "paper", "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.email == "mod@paper.example" and user.role == "moderator"
        assert [s.slug for s in user.sites] == ["paper"]
        assert user.password_hash.startswith("$argon2id$")
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.created"))


def test_user_create_errors(runner):
    runner.invoke(args=["site", "create", "paper"])
    no_site = runner.invoke(args=["user", "create", "m@x.example", "--role", "moderator", "--password-stdin"],
                            input="a long enough password\n")
    assert no_site.exit_code != 0 and "at least one site" in no_site.output
    unknown = runner.invoke(args=["user", "create", "m@x.example", "--role", "editor", "--site", "nope",
                                  "--password-stdin"], input="a long enough password\n")
    assert unknown.exit_code != 0 and "no site" in unknown.output
    short = runner.invoke(args=["user", "create", "m@x.example", "--role", "admin", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0 and "at least" in short.output


def test_policy_round_trip(app, runner, tmp_path):
    runner.invoke(args=["site", "create", "paper"])
    exported = runner.invoke(args=["policy", "export", "paper"])
    assert exported.exit_code == 0, exported.output
    policy = json.loads(exported.output)
    assert set(policy) == {"thresholds", "banned_words", "suspect_words", "premoderation"}
    policy["banned_words"] = ["scum"]
    policy["thresholds"]["toxicity"] = {"review": 0.4, "reject": 0.95}
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    imported = runner.invoke(args=["policy", "import", "paper", str(path)])
    assert imported.exit_code == 0, imported.output
    assert "version 2" in imported.output
    again = json.loads(runner.invoke(args=["policy", "export", "paper"]).output)
    assert again["banned_words"] == ["scum"]
    assert again["thresholds"]["toxicity"] == {"review": 0.4, "reject": 0.95}


def test_policy_import_keeps_the_categories_a_file_leaves_out_at_their_defaults(runner, tmp_path):
    """DESIGN's own example lists two categories: the others are not switched off by their absence
    (null review and reject switch one off), and the command says which took the defaults."""
    runner.invoke(args=["site", "create", "paper"])
    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"thresholds": {"toxicity": {"review": 0.5, "reject": 0.9},
                                               "threat": {"review": None, "reject": None}}}))
    imported = runner.invoke(args=["policy", "import", "paper", str(path)])
    assert imported.exit_code == 0, imported.output
    assert "severe_toxicity, obscene, insult, identity_attack, sexual_explicit" in imported.output
    assert "default thresholds" in imported.output
    thresholds = json.loads(runner.invoke(args=["policy", "export", "paper"]).output)["thresholds"]
    assert thresholds["toxicity"] == {"review": 0.5, "reject": 0.9}
    assert thresholds["threat"] == {"review": None, "reject": None}  # switched off, as the file says
    assert thresholds["identity_attack"] == {"review": 0.6, "reject": 0.9}  # the default


def test_policy_import_errors(runner, tmp_path):
    runner.invoke(args=["site", "create", "paper"])
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = runner.invoke(args=["policy", "import", "paper", str(broken)])
    assert result.exit_code != 0 and "not valid JSON" in result.output
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"thresholds": {"toxicity": {"review": 2, "reject": 0.5}}}))
    result = runner.invoke(args=["policy", "import", "paper", str(invalid)])
    assert result.exit_code != 0 and "not a valid policy" in result.output
    missing_site = runner.invoke(args=["policy", "export", "nope"])
    assert missing_site.exit_code != 0 and "no site" in missing_site.output
