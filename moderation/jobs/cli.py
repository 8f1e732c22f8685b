"""`moderation rescore`: score stored comments again with the current model and policy."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..models import utcnow


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip()
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if text[:-1].isdigit() and text[-1:] in units:  # 7d, 12h, 30m: that long ago
        return utcnow() - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"expected an ISO date (2021-04-16, 2021-04-16T12:00Z) or an age "
                                 f"such as 7d, 12h, 30m; got {value!r}", param_hint="--since") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@click.command("rescore")
@click.option("--site", "slug", help="Only this site (default: every site).")
@click.option("--status", "statuses", default="pending,queued", show_default=True,
              help="Comma-separated statuses to rescore. Human decisions are never changed.")
@click.option("--since", help="Only comments received since: an ISO date or an age (7d, 12h).")
@click.option("--enqueue", is_flag=True, help="Leave the job to `moderation worker` instead of running it here.")
@with_appcontext
def rescore_command(slug: str | None, statuses: str, since: str | None, enqueue: bool) -> None:
    """Score stored comments again with the current model and site policies.

    Comments a moderator decided keep their decision. A comment whose status changes gets a
    `comment.moderated` callback. Runs here with a progress bar, or in a worker with --enqueue.
    """
    from ..scoring import ScorerUnavailable
    from ..sites import SiteError, require
    from .rescore import RescoreError, create_job

    try:
        site_id = require(slug).id if slug else None
        job = create_job(site_id=site_id, statuses=[s.strip() for s in statuses.split(",") if s.strip()],
                         since=_parse_since(since), requested_by="cli")
        db.session.commit()
    except (SiteError, RescoreError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(f"Rescore job {job.id}: {job.total} comment(s) to score.")
    if enqueue:
        click.echo("Queued; a running `moderation worker` will process it.")
        return
    from .. import runtime

    scorer = runtime.scorer()
    try:
        scorer.ensure_loaded()
    except ScorerUnavailable as error:
        raise click.ClickException(f"the model is not available ({error}); job {job.id} stays queued "
                                   "for a worker") from None
    _run_inline(job.id, scorer)


def _run_inline(job_id: int, scorer) -> None:
    from tqdm import tqdm

    from .rescore import claim_job, run_batch

    config = current_app.config
    lease = timedelta(seconds=float(config["RESCORE_LEASE_SECONDS"]))
    batch = int(config["WORKER_BATCH_SIZE"])
    job = claim_job(utcnow(), lease, job_id=job_id)
    if job is None:
        raise click.ClickException(f"job {job_id} is already being run by a worker")
    with tqdm(total=job.total, unit="comment", desc=f"rescore {job_id}") as bar:
        while (done := run_batch(job, scorer, batch_size=batch, now=utcnow(), lease=lease,
                                 actor_type="cli")):
            bar.update(done)
    click.echo(f"Done: {job.processed} processed, {job.changed} changed status, "
               f"{job.skipped} could not be scored (left as they were).")
