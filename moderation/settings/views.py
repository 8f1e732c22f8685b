"""The editors' policy page: /sites/<slug>/policy, with preview, save, history and restore (thin views)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..extensions import db, login_manager
from ..models import User
from ..policy_versions import UnknownVersion, current_version
from . import access, operations, page
from .form import read_form
from .windows import chosen

bp = Blueprint("settings", __name__)


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


@bp.before_request
def _require_sign_in() -> ResponseReturnValue | None:
    # Every view of this blueprint; the per-site role check is in _site().
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.app_context_processor
def _policy_link() -> dict:
    return {"can_edit_policies": access.can_edit_policies}


def _site(slug: str):
    return access.require_site_editor(slug)


def _base_version(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@bp.get("/policy")
def index() -> ResponseReturnValue:
    user = _user()
    if not access.can_edit_policies(user):
        abort(403, description="Only editors and admins can change policies.")
    sites = access.editable_sites(user)
    if len(sites) == 1:
        return redirect(url_for("settings.policy", slug=sites[0].slug))
    return render_template("settings/index.html", sites=sites)


@bp.get("/sites/<slug>/policy")
def policy(slug: str) -> ResponseReturnValue:
    site = _site(slug)
    return render_template("settings/policy.html",
                           **page.context(site, _user(), window=chosen(request.args.get("window"))))


@bp.post("/sites/<slug>/policy")
def submit(slug: str) -> ResponseReturnValue:
    site = _site(slug)
    user = _user()
    form = read_form(request.form)
    window = chosen(request.form.get("window"))
    action = request.form.get("action", "preview")
    base_version = _base_version(request.form.get("base_version"))

    def show(status: int, **extra) -> ResponseReturnValue:
        context = page.context(site, user, window=window, form=form, base_version=base_version, **extra)
        return render_template("settings/policy.html", **context), status

    if not form.valid:
        return show(422)
    if action != "save":
        return show(200, preview=page.preview_for(site, form.policy(), window))
    try:
        saved = operations.save_form(site, user, form, base_version=base_version)
        db.session.commit()
    except operations.NothingChanged as error:
        db.session.rollback()
        return show(409, notice=f"Nothing saved: {error}.")
    except operations.StaleForm as error:
        db.session.rollback()
        return show(409, stale=error.latest)
    except IntegrityError:  # another save took the same version number at the same moment
        db.session.rollback()
        return show(409, stale=current_version(site.id))
    flash(f"Saved policy version {saved.version.version}. New comments follow it now; comments already "
          "decided keep the version they were decided under.", "success")
    return redirect(url_for("settings.policy", slug=site.slug, window=window), code=303)


@bp.post("/sites/<slug>/policy/versions/<int:number>/restore")
def restore(slug: str, number: int) -> ResponseReturnValue:
    site = _site(slug)
    try:
        saved = operations.restore(site, _user(), number, base_version=_base_version(request.form.get("base_version")),
                                   note=request.form.get("note"))
        db.session.commit()
    except UnknownVersion:
        db.session.rollback()
        abort(404)
    except (operations.NothingChanged, operations.StaleForm, IntegrityError) as error:
        db.session.rollback()
        message = str(error) if not isinstance(error, IntegrityError) else "another version was saved meanwhile"
        flash(f"Not restored: {message}. The history below is up to date; try again if still needed.", "warning")
        return redirect(url_for("settings.policy", slug=site.slug), code=303)
    flash(f"Restored version {number} as the new version {saved.version.version}.", "success")
    return redirect(url_for("settings.policy", slug=site.slug), code=303)
