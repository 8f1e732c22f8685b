"""`moderation callbacks list|redeliver`: see and retry the outbox from the command line."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..models import utcnow
from ..models.outbox import OUTBOX_STATUSES


@click.group("callbacks", help="Inspect and redeliver callbacks to publishers.")
def callbacks_cli() -> None:
    pass


@callbacks_cli.command("list")
@click.option("--failed", is_flag=True, help="Only deliveries that were given up.")
@click.option("--status", type=click.Choice(OUTBOX_STATUSES))
@click.option("--site", "slug", help="Only this site.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@with_appcontext
def list_command(failed: bool, status: str | None, slug: str | None, limit: int, as_json: bool) -> None:
    """List outbox messages, newest first."""
    from ..sites import SiteError, require
    from .outbox import disabled_sites, messages

    site_id = None
    if slug:
        try:
            site_id = require(slug).id
        except SiteError as error:
            raise click.ClickException(str(error)) from None
    rows = messages(status="failed" if failed else status, site_id=site_id, limit=limit)
    for message, site in rows:
        row = {
            "id": message.id, "site": site.slug, "webhook_id": message.webhook_id,
            "comment_id": message.comment_id, "status": message.status, "attempts": message.attempts,
            "next_attempt_at": message.next_attempt_at.isoformat() if message.status == "pending" else None,
            "last_status_code": message.last_status_code, "last_error": message.last_error,
        }
        if as_json:
            click.echo(json.dumps(row))
        else:
            when = f" next {row['next_attempt_at'][:19]}" if row["next_attempt_at"] else ""
            click.echo(f"{message.id:>6} {site.slug:<16} {message.status:<9} attempts={message.attempts}"
                       f"{when} {message.webhook_id}  {message.last_error or ''}".rstrip())
    if not rows and not as_json:
        click.echo("No callbacks match.")
    if not as_json:
        for site in disabled_sites():
            click.echo(f"note: callbacks to {site.slug} are disabled ({site.callback_disabled_reason}); "
                       f"`moderation site update {site.slug} --callback-url URL` resumes them", err=True)


@callbacks_cli.command("redeliver")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed delivery (of --site, if given).")
@click.option("--site", "slug", help="With --all-failed: only this site.")
@with_appcontext
def redeliver_command(ids: tuple[int, ...], all_failed: bool, slug: str | None) -> None:
    """Send failed deliveries again, on a fresh retry schedule (same webhook-id)."""
    from ..sites import SiteError, require
    from .outbox import redeliver

    if bool(ids) == all_failed:
        raise click.ClickException("give message ids or --all-failed (not both)")
    site_id = None
    if slug:
        try:
            site_id = require(slug).id
        except SiteError as error:
            raise click.ClickException(str(error)) from None
    count = redeliver(ids=ids, all_failed=all_failed, site_id=site_id, actor_type="cli", now=utcnow())
    db.session.commit()
    if ids and count < len(ids):
        click.echo(f"{len(ids) - count} of the given ids are not failed messages; left alone",
                   err=True)
    click.echo(f"Queued {count} callback(s) for redelivery.")
