"""Admins' page for Perspective API keys: list, create and revoke (session login, CSRF)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
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


def _page(issued: keys.IssuedKey | None = None) -> str:
    all_sites = list(db.session.scalars(sa.select(Site).order_by(Site.slug)))
    return render_template("admin/apikeys.html", keys=keys.all_keys(), sites=all_sites, issued=issued)


@bp.get("/")
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/")
def create() -> ResponseReturnValue:
    site = sites.by_slug(request.form.get("site", ""))
    if site is None:
        flash("Choose a site for the new key.", "error")
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
