"""Admin page for callbacks: given-up deliveries with their last error, redelivery, paused endpoints, waiting sites."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..auth.access import require_admin
from ..extensions import db
from ..models import Site, utcnow
from . import outbox

bp = Blueprint("callbacks_admin", __name__, url_prefix="/admin/callbacks")

STATUSES = ("failed", "pending", "delivered")


# Callbacks carry every site's data and secrets' effects: admins only, checked for every view.
bp.before_request(require_admin)


@bp.get("/")
def index() -> ResponseReturnValue:
    status = request.args.get("status", "failed")
    if status not in STATUSES:
        abort(404)
    return render_template("admin/callbacks.html", status=status, statuses=STATUSES,
                           rows=outbox.messages(status=status, limit=200), counts=outbox.counts_by_status(),
                           disabled=outbox.disabled_sites(), waiting=outbox.waiting_for_url_by_site())


@bp.post("/<int:message_id>/redeliver")
def redeliver_one(message_id: int) -> ResponseReturnValue:
    count = outbox.redeliver(ids=[message_id], actor_type="user", actor_id=current_user.email, now=utcnow())
    db.session.commit()
    flash("Queued for redelivery." if count else "That message is not a failed delivery.",
          "success" if count else "error")
    return redirect(url_for(".index"))


@bp.post("/redeliver-failed")
def redeliver_failed() -> ResponseReturnValue:
    count = outbox.redeliver(all_failed=True, actor_type="user", actor_id=current_user.email, now=utcnow())
    db.session.commit()
    flash(f"Queued {count} failed callback(s) for redelivery.", "success")
    return redirect(url_for(".index"))


@bp.post("/sites/<int:site_id>/enable")
def enable_site(site_id: int) -> ResponseReturnValue:
    site = db.session.get(Site, site_id)
    if site is None:
        abort(404)
    outbox.enable_endpoint(site, actor_type="user", actor_id=current_user.email)
    db.session.commit()
    flash(f"Callbacks to {site.slug} resumed.", "success")
    return redirect(url_for(".index"))
