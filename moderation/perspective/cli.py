"""`moderation apikey create|revoke|list` and `moderation perspective purge`."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db


@click.group("apikey", help="Keys for the Perspective-compatible API.")
def apikey_cli() -> None:
    pass


@apikey_cli.command("create")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object {"site": SLUG, "key": KEY}.')
@with_appcontext
def apikey_create(slug: str, as_json: bool) -> None:
    """Create a key for the site SLUG; it is printed once (only its hash is stored)."""
    from ..sites import SiteError, require
    from .keys import create_key

    try:
        issued = create_key(require(slug))
        db.session.commit()
    except SiteError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(issued.to_dict()))
        return
    click.echo(f"Created an API key for {slug!r}:")
    click.echo(f"  {issued.key}")
    click.echo("Store it now: it is not shown again.")


@apikey_cli.command("revoke")
@click.argument("key")
@with_appcontext
def apikey_revoke(key: str) -> None:
    """Revoke KEY: requests with it are refused from now on."""
    from .keys import by_key, revoke

    row = by_key(key)
    if row is None:
        raise click.ClickException("no such API key")
    if revoke(row):
        db.session.commit()
        click.echo(f"Revoked key {row.prefix}… of {row.site.slug!r}.")
    else:
        click.echo(f"Key {row.prefix}… of {row.site.slug!r} was already revoked.")


@apikey_cli.command("list")
@with_appcontext
def apikey_list() -> None:
    """List keys: id, prefix, site, use count, state (never the keys themselves)."""
    from .keys import all_keys

    for row in all_keys():
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        click.echo(f"{row.id}\t{row.prefix}…\t{row.site.slug}\t{row.use_count} requests\t{state}")


@click.group("perspective", help="Data kept by the Perspective-compatible API.")
def perspective_cli() -> None:
    pass


@perspective_cli.command("purge")
@click.option("--days", type=float, default=None,
              help="Keep this many days (default: MODERATION_PERSPECTIVE_RETENTION_DAYS).")
@with_appcontext
def perspective_purge(days: float | None) -> None:
    """Delete scored texts older than the retention period."""
    from .analysis import purge_scored_texts

    retention = current_app.config["PERSPECTIVE_RETENTION_DAYS"] if days is None else days
    removed = purge_scored_texts(retention)
    db.session.commit()
    click.echo(f"Deleted {removed} scored texts older than {retention:g} days.")
