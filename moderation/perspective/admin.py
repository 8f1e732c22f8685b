"""Admins' page for Perspective API keys: list, create and revoke (session login, CSRF)."""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import sites
from ..auth.access import require_admin
from ..extensions import db
from ..models import Site
from . import keys

bp = Blueprint("apikeys", __name__, url_prefix="/admin/apikeys")


# Keys open every site's scoring to whoever holds them: admins only, checked for every view.
bp.before_request(require_admin)


_SENT_FORMS = "apikeys.sent_forms"  # in the session: the creation forms already sent (the last few)


def _page(issued: keys.IssuedKey | None = None) -> str:
    all_sites = list(db.session.scalars(sa.select(Site).order_by(Site.slug)))
    # Each rendering of the form gets its own token: a reload that sends the form again (the key
    # is shown on the POST's own page, so the browser offers to) creates no second key.
    return render_template("admin/apikeys.html", keys=keys.all_keys(), sites=all_sites, issued=issued,
                           form_token=secrets.token_urlsafe(16))


def _first_sending(token: str) -> bool:
    """False when this form was sent before in this session; records it otherwise."""
    if not token:
        return True  # a scripted POST without the page's token: nothing to recognise it by
    sent = list(session.get(_SENT_FORMS, []))
    if token in sent:
        return False
    session[_SENT_FORMS] = (sent + [token])[-20:]
    return True


@bp.get("/")
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/")
def create() -> ResponseReturnValue:
    site = sites.by_slug(request.form.get("site", ""))
    if site is None:
        flash("Choose a site for the new key.", "error")
        return redirect(url_for("apikeys.index"))
    if not _first_sending(request.form.get("form_token", "")):
        flash("That form was already sent: the key it created is in the list below (a key is shown only once).",
              "error")
        return redirect(url_for("apikeys.index"))
    issued = keys.create_key(site, actor_type="user", actor_id=current_user.email)
    db.session.commit()
    # Shown on this response only: the key is stored as a hash and cannot be shown again.
    return _page(issued)


@bp.post("/<int:key_id>/revoke")
def revoke(key_id: int) -> ResponseReturnValue:
    row = keys.by_id(key_id)
    if row is None:
        abort(404)
    if keys.revoke(row, actor_type="user", actor_id=current_user.email):
        db.session.commit()
        flash(f"Key {row.prefix}… revoked.", "ok")
    else:
        flash(f"Key {row.prefix}… was already revoked.", "ok")
    return redirect(url_for("apikeys.index"))
