"""The service's own commands (site, user, policy) and init_app(), which gives app.cli all of them."""
from __future__ import annotations

import json
import sys
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .extensions import db


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.group("site", help="Create and change publishing sites.")
def site_cli() -> None:
    pass


@site_cli.command("create")
@click.argument("slug")
@click.option("--name", help="Display name (defaults to the slug).")
@click.option("--callback-url", help="Where decisions made later are POSTed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the credentials.")
@with_appcontext
def site_create(slug: str, name: str | None, callback_url: str | None, as_json: bool) -> None:
    """Create a site; prints its webhook secret and API token (shown only once)."""
    from .sites import SiteError, create_site

    try:
        credentials = create_site(slug, name=name, callback_url=callback_url)
        db.session.commit()
    except SiteError as error:
        db.session.rollback()
        _fail(str(error))
    if as_json:
        click.echo(json.dumps(credentials.to_dict()))
        return
    click.echo(f"Created site {slug!r}.")
    click.echo(f"  webhook secret: {credentials.secret}")
    click.echo(f"  API token:      {credentials.api_token}")
    click.echo("Store both now: the token is not shown again.")


@site_cli.command("update")
@click.argument("slug")
@click.option("--callback-url", help="New callback URL ('' removes it).")
@click.option("--coral-secret", help="Coral's external moderation signing secret (empsec_...).")
@click.option("--rotate-secret", is_flag=True, help="New webhook secret; the old one works for a grace period.")
@with_appcontext
def site_update(slug: str, callback_url: str | None, coral_secret: str | None, rotate_secret: bool) -> None:
    """Change a site's callback URL or Coral secret, or rotate its webhook secret."""
    from .sites import SiteError, require, update_site

    if callback_url is None and coral_secret is None and not rotate_secret:
        _fail("nothing to change: give --callback-url, --coral-secret or --rotate-secret")
    try:
        site = require(slug)
        grace = timedelta(hours=current_app.config["PREVIOUS_SECRET_GRACE_HOURS"])
        new_secret = update_site(site, callback_url=callback_url, coral_secret=coral_secret,
                                 rotate_secret=rotate_secret, grace=grace)
        db.session.commit()
    except SiteError as error:
        db.session.rollback()
        _fail(str(error))
    click.echo(f"Updated site {slug!r}.")
    if coral_secret is not None and site.coral_previous_secret_expires_at and site.coral_previous_secret:
        click.echo(f"  the previous Coral secret keeps working for {grace} (until "
                   f"{site.coral_previous_secret_expires_at:%Y-%m-%d %H:%M} UTC), while Coral signs with both")
    if new_secret:
        click.echo(f"  new webhook secret: {new_secret}")
        click.echo(f"  the previous secret keeps working for {grace} (until "
                   f"{site.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC)")


@site_cli.command("encryption-key")
def site_encryption_key() -> None:
    """Print a new key for MODERATION_SECRET_ENCRYPTION_KEYS (put it first; keep the old ones after it)."""
    from .encryption import new_key

    click.echo(new_key())


@site_cli.command("reencrypt-secrets")
@with_appcontext
def site_reencrypt_secrets() -> None:
    """Encrypt every site's stored secrets under the first key of MODERATION_SECRET_ENCRYPTION_KEYS."""
    from .encryption import SecretKeyError
    from .sites import reencrypt_secrets

    try:
        count = reencrypt_secrets(current_app.extensions["secret_box"])
        db.session.commit()
    except SecretKeyError as error:
        db.session.rollback()
        _fail(str(error))
    click.echo(f"Re-encrypted {count} stored secret(s) under the first key; older keys may now be removed.")


@click.group("user", help="Manage moderators, editors and admins.")
def user_cli() -> None:
    pass


@user_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["moderator", "editor", "admin"]))
@click.option("--site", "site_slugs", multiple=True, help="A site the user works on (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def user_create(email: str, role: str, site_slugs: tuple[str, ...], password_stdin: bool) -> None:
    """Create a user; without --password-stdin a strong password is generated and printed."""
    import secrets

    from .auth.users import UserError, create_user
    from .sites import SiteError, require

    generated = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = generated = secrets.token_urlsafe(12)
    try:
        sites = [require(slug) for slug in site_slugs]
        user = create_user(email, role=role, password=password, sites=sites)
        db.session.commit()
    except (UserError, SiteError) as error:
        db.session.rollback()
        _fail(str(error))
    click.echo(f"Created {user.role} {user.email}" + (f" for {', '.join(site_slugs)}" if site_slugs else ""))
    if generated:
        click.echo(f"  password: {generated}")


@click.group("policy", help="Export and import a site's moderation policy.")
def policy_cli() -> None:
    pass


@policy_cli.command("export")
@click.argument("slug")
@with_appcontext
def policy_export(slug: str) -> None:
    """Print the site's current policy as JSON."""
    from .policy_versions import current_policy
    from .sites import SiteError, require

    try:
        site = require(slug)
    except SiteError as error:
        _fail(str(error))
    _, policy = current_policy(site)
    click.echo(json.dumps(policy.to_dict(), indent=2, ensure_ascii=False))


def _os_user() -> str | None:
    import getpass

    try:
        return getpass.getuser().strip() or None
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return None


@policy_cli.command("import")
@click.argument("slug")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--actor", metavar="EMAIL", help="Who makes this change (default: the OS user).")
@click.option("--note", help="Why (shown in the page's history; default: the file's name).")
@with_appcontext
def policy_import(slug: str, file, actor: str | None, note: str | None) -> None:
    """Save FILE (JSON, '-' for stdin) as the site's new policy version."""
    from .auth.users import by_email
    from .policy_versions import save_policy
    from .policy import PolicyError, with_default_categories
    from .sites import SiteError, require

    actor = (actor or "").strip() or _os_user()
    if not actor:
        _fail("cannot tell who is importing (the OS user has no name): give --actor EMAIL")
    try:
        document = json.load(file)
    except json.JSONDecodeError as error:
        _fail(f"{file.name} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}")
    document, defaulted = with_default_categories(document)
    try:
        site = require(slug)
        user = by_email(actor)
        version = save_policy(site, document, actor_type="cli", actor_id=actor, author=actor,
                              user_id=user.id if user is not None else None,
                              note=note or f"imported from {file.name}")
        db.session.commit()
    except SiteError as error:
        db.session.rollback()
        _fail(str(error))
    except PolicyError as error:
        db.session.rollback()
        details = "\n".join(f"  {field}: {message}" for field, message in error.errors.items())
        _fail(f"{file.name} is not a valid policy:\n{details}")
    click.echo(f"Saved policy version {version.version} for {slug!r}.")
    if defaulted:
        click.echo(f"Not in {file.name}, so at the default thresholds: {', '.join(defaulted)} "
                   "(give a category null review and reject to switch it off).")


def init_app(app: Flask) -> None:
    """Give app.cli every command of the service (also reachable as `flask --app moderation ...`)."""
    from .callbacks.cli import callbacks_cli
    from .demo import demo_command
    from .jobs.cli import rescore_command
    from .lexicon.cli import lexicon_cli
    from .model_cli import model_cli
    from .perspective.cli import apikey_cli, perspective_cli
    from .serve import serve_command
    from .worker import worker_command

    for command in (site_cli, user_cli, policy_cli, demo_command, serve_command, model_cli,
                    worker_command, rescore_command, callbacks_cli, lexicon_cli, apikey_cli, perspective_cli):
        app.cli.add_command(command)
