"""Webhook and Coral secrets encrypted at rest with MultiFernet keys from the environment (issue 8, item 14)."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from moderation import create_app
from moderation.encryption import PREFIX, SecretBox, SecretKeyError
from moderation.extensions import db
from support import comment_payload, sign
from test_coral import CORAL_SECRET, coral_post, coral_request

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def raw_secrets(app, slug: str = "news") -> dict[str, str | None]:
    """What the database really holds, read past the model's column type."""
    with app.app_context():
        row = db.session.execute(sa.text(
            "SELECT secret, previous_secret, coral_secret, coral_previous_secret FROM sites WHERE slug = :s"),
            {"s": slug}).one()
        return dict(row._mapping)


def new_site(app, slug: str = "news", coral_secret: str | None = None):
    from moderation.sites import create_site, require, update_site

    with app.app_context():
        credentials = create_site(slug)
        if coral_secret:
            update_site(require(slug), coral_secret=coral_secret)
        db.session.commit()
    return credentials


def webhook(app, credentials, comment_id: str = "c1"):
    body = json.dumps(comment_payload(comment_id, "<p>Armenians are rightfully angry.</p>")).encode()
    headers = sign(credentials.secret, body) | {"Content-Type": "application/json"}
    return app.test_client().post(f"/api/v1/sites/{credentials.slug}/comments", data=body, headers=headers)


def test_with_a_key_the_database_never_holds_the_secrets_and_signatures_verify(make_app):
    app = make_app(SECRET_ENCRYPTION_KEYS=KEY_A, CORAL_TIMEOUT=5.0)
    credentials = new_site(app, coral_secret=CORAL_SECRET)
    with app.app_context():
        from moderation.sites import require, update_site
        update_site(require("news"), rotate_secret=True)  # the previous secret is sealed too
        db.session.commit()
        site = require("news")
        current, previous = site.secret, site.previous_secret
    assert previous == credentials.secret
    stored = raw_secrets(app)
    for column, secret in (("secret", current), ("previous_secret", previous), ("coral_secret", CORAL_SECRET)):
        assert stored[column].startswith(PREFIX), column
        assert secret not in stored[column] and secret.removeprefix("whsec_") not in stored[column]
        assert Fernet(KEY_A).decrypt(stored[column].removeprefix(PREFIX).encode()).decode() == secret
    assert webhook(app, credentials).status_code == 200  # signed with the previous secret: still valid
    assert coral_post(app.test_client(), coral_request("A calm remark about the park.")).status_code == 200


def test_callbacks_are_signed_with_the_decrypted_secret(make_app):
    from standardwebhooks import Webhook

    from moderation.models import Site, utcnow

    app = make_app(SECRET_ENCRYPTION_KEYS=KEY_A)
    credentials = new_site(app)
    with app.app_context():
        site = db.session.scalar(sa.select(Site))
        now = utcnow()
        headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp()))}
        headers["webhook-signature"] = Webhook(site.webhook_secrets(now)[0]).sign("msg_1", now, "{}")
    Webhook(credentials.secret).verify("{}", headers)


def test_without_a_key_secrets_are_stored_as_before_and_a_warning_says_so(make_app, caplog):
    app = make_app()
    credentials = new_site(app)
    assert raw_secrets(app)["secret"] == credentials.secret
    assert webhook(app, credentials).status_code == 200
    assert any("stored unencrypted" in r.getMessage() for r in caplog.records)


def test_rotation_new_key_first_old_keys_still_decrypt_then_reencrypt(make_app):
    old = make_app(SECRET_ENCRYPTION_KEYS=KEY_A)
    credentials = new_site(old, coral_secret=CORAL_SECRET)
    before = raw_secrets(old)

    rotating = make_app(SECRET_ENCRYPTION_KEYS=f"{KEY_B},{KEY_A}")
    assert webhook(rotating, credentials, "c1").status_code == 200
    result = rotating.test_cli_runner().invoke(args=["site", "reencrypt-secrets"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 2 stored secret(s)" in result.output
    after = raw_secrets(rotating)
    assert after["secret"] != before["secret"] and after["coral_secret"] != before["coral_secret"]
    assert Fernet(KEY_B).decrypt(after["secret"].removeprefix(PREFIX).encode()).decode() == credentials.secret

    new_only = make_app(SECRET_ENCRYPTION_KEYS=KEY_B)
    assert webhook(new_only, credentials, "c2").status_code == 200
    with new_only.app_context():
        from moderation.sites import require
        assert require("news").coral_secrets() == [CORAL_SECRET]

    old_only = make_app(SECRET_ENCRYPTION_KEYS=KEY_A)
    with old_only.app_context(), pytest.raises(SecretKeyError, match="no key"):
        require("news").secret


def test_reencrypt_encrypts_rows_written_before_a_key_was_set(make_app):
    plain = make_app()
    credentials = new_site(plain)
    assert raw_secrets(plain)["secret"] == credentials.secret
    keyed = make_app(SECRET_ENCRYPTION_KEYS=KEY_A)
    assert webhook(keyed, credentials, "c1").status_code == 200  # plaintext rows still read
    assert keyed.test_cli_runner().invoke(args=["site", "reencrypt-secrets"]).exit_code == 0
    assert raw_secrets(keyed)["secret"].startswith(PREFIX)
    assert webhook(keyed, credentials, "c2").status_code == 200
    unkeyed = plain.test_cli_runner().invoke(args=["site", "reencrypt-secrets"])
    assert unkeyed.exit_code != 0 and "not set" in unkeyed.output


def test_encrypted_secrets_without_the_setting_fail_with_a_clear_error(make_app):
    new_site(make_app(SECRET_ENCRYPTION_KEYS=KEY_A))
    app = make_app()
    with app.app_context(), pytest.raises(SecretKeyError, match="MODERATION_SECRET_ENCRYPTION_KEYS is not set"):
        from moderation.sites import require
        require("news").secret


def test_a_malformed_key_is_refused_at_start(make_app):
    with pytest.raises(SecretKeyError, match="key 2 is not a Fernet key"):
        make_app(SECRET_ENCRYPTION_KEYS=f"{KEY_A},not-a-key")


def test_encryption_key_command_prints_a_usable_key(runner):
    result = runner.invoke(args=["site", "encryption-key"])
    assert result.exit_code == 0
    SecretBox([result.output.strip()])  # a valid Fernet key


def test_coral_secrets_longer_than_the_column_allows_are_refused(app, site):
    from moderation.sites import SiteError, require, update_site

    with app.app_context(), pytest.raises(SiteError, match="at most 200"):
        update_site(require("news"), coral_secret="empsec_" + "a" * 200)


# --- the migration --------------------------------------------------------------------------


def test_migration_encrypts_existing_rows_when_a_key_is_set_and_downgrade_decrypts(fresh_database, tmp_path):
    from flask_migrate import downgrade, upgrade

    app = create_app({"DATABASE_URL": fresh_database, "SECRET_KEY": "test", "TESTING": True,
                      "SECRET_ENCRYPTION_KEYS": KEY_A})
    app.instance_path = str(tmp_path)
    with app.app_context():
        upgrade(revision="0003_review")
        db.session.execute(sa.text(
            "INSERT INTO sites (slug, name, secret, api_token_hash, coral_secret, created_at) "
            "VALUES ('old', 'Old', 'whsec_b2xkc2VjcmV0', 'abc', :coral, CURRENT_TIMESTAMP)"), {"coral": CORAL_SECRET})
        db.session.commit()
        upgrade(revision="0005_encrypt_secrets")
    stored = raw_secrets(app, "old")
    assert stored["secret"].startswith(PREFIX) and "b2xkc2VjcmV0" not in stored["secret"]
    assert stored["coral_secret"].startswith(PREFIX) and stored["previous_secret"] is None
    with app.app_context():
        from moderation.sites import require
        upgrade()  # the models are the newest revision's
        assert require("old").secret == "whsec_b2xkc2VjcmV0"
        db.session.rollback()
        downgrade(revision="0003_review")
    assert raw_secrets(app, "old")["secret"] == "whsec_b2xkc2VjcmV0"
    with app.app_context():
        db.engine.dispose()
