"""Routes beside the policy page: agreement and charts, the site's lexicon terms, rescoring with progress (thin views)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..auth.sessions import local_path
from ..extensions import db
from ..jobs.rescore import RescoreError
from ..lexicon import store
from ..models import LexiconTerm, Site
from ..policy_versions import current_policy
from . import insights
from .access import require_site_editor
from .windows import chosen

bp = Blueprint("insights", __name__, url_prefix="/sites/<slug>/policy")


def _back(site: Site) -> ResponseReturnValue:
    """Where the form came from (the policy page or this one), never off the site's workspace."""
    requested = request.form.get("next", "")
    target = local_path(requested)
    if not target or not target.startswith(f"/sites/{site.slug}/policy"):
        target = url_for("insights.page", slug=site.slug)
    fragment = urlsplit(requested).fragment
    if fragment.isidentifier():  # back to the section the form was in
        target += f"#{fragment}"
    return redirect(target)


def _render(site: Site, *, status: int = 200, lexicon_form: dict | None = None) -> ResponseReturnValue:
    window = chosen(request.args.get("window"))
    version, current = current_policy(site)
    proposed, errors = insights.proposed_policy(current, request.args)
    context = insights.page_context(site, current_user, current, proposed, window=window,
                                    lexicon_form=lexicon_form)
    return render_template("settings/insights.html", policy_version=version, proposal_errors=errors,
                           **context), status


@bp.get("/insights")
def page(slug: str) -> ResponseReturnValue:
    return _render(require_site_editor(slug))


@bp.post("/lexicon")
def add_terms(slug: str) -> ResponseReturnValue:
    site = require_site_editor(slug)
    form = request.form
    scope = form.get("scope", "site")
    if scope == "global" and current_user.role != "admin":
        abort(403)  # terms for every site are an admin's choice
    lines = [line.strip() for line in form.get("terms", "").splitlines() if line.strip()]
    values = {key: form.get(key, "") for key in ("terms", "category", "language", "severity", "scope")}
    errors: dict[str, str] = {}
    terms = []
    if not lines:
        errors["terms"] = "enter at least one term, one per line"
    for number, line in enumerate(lines, 1):
        try:
            terms.append(store.validate(line, values["category"], values["language"], values["severity"]))
        except store.LexiconEditError as error:
            for field_name, message in error.errors.items():
                key = "terms" if field_name == "term" else field_name
                errors.setdefault(key, f"line {number}: {message}" if key == "terms" else message)
    if scope not in ("site", "global"):
        errors["scope"] = f"expected site or global, got {scope!r}"
    if errors:
        db.session.rollback()
        return _render(site, status=422, lexicon_form={"values": values, "errors": errors})
    result = store.add_terms(terms, site_id=site.id if scope == "site" else None, actor_type="user",
                             actor_id=current_user.email)
    db.session.commit()
    where = f"site {site.slug}" if scope == "site" else "every site"
    flash(f"Added {len(result.added)} term(s) for {where}; {result.skipped} already known. "
          "Every node uses them within seconds.", "success")
    return _back(site)


@bp.post("/lexicon/<int:term_id>/remove")
def remove_term(slug: str, term_id: int) -> ResponseReturnValue:
    site = require_site_editor(slug)
    row = db.session.get(LexiconTerm, term_id)
    if row is None or row.deleted_at is not None or row.site_id not in (site.id, None):
        abort(404)
    if row.site_id is None and current_user.role != "admin":
        abort(403)
    store.remove_term(row, actor_type="user", actor_id=current_user.email)
    db.session.commit()
    flash(f"Removed {row.term!r}.", "success")
    return _back(site)


@bp.post("/rescore")
def start_rescore(slug: str) -> ResponseReturnValue:
    site = require_site_editor(slug)
    try:
        job = insights.start_rescore(site, current_user, window=request.form.get("window", ""),
                                     scope=request.form.get("scope", "all"))
    except (insights.InsightsError, RescoreError) as error:
        db.session.rollback()
        flash(f"Rescore not started: {error}", "warning")
        return _back(site)
    db.session.commit()
    flash(f"Rescore {job.id} queued: {job.total} comment(s); a worker runs it. Human decisions stay.", "success")
    return _back(site)


@bp.get("/rescore/<int:job_id>")
def rescore_status(slug: str, job_id: int) -> ResponseReturnValue:
    site = require_site_editor(slug)
    job = insights.job_for(site.id, job_id)
    if job is None:
        abort(404)
    response = jsonify(insights.job_status(job))
    response.headers["Cache-Control"] = "no-store"
    return response
