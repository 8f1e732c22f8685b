"""The review UI: the queue, the comment card, and the moderators' actions (thin views)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..auth.sessions import local_path, wants_json
from ..bounds import parse_id
from ..extensions import db, login_manager
from ..models import Comment, User, utcnow
from . import access, operations, present, queries
from .operations import InvalidAction, ActionResult
from .reasons import REJECTION_REASONS

bp = Blueprint("review", __name__)


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


@bp.before_request
def _require_reviewer() -> ResponseReturnValue | None:
    # Checked on every request of this blueprint: no view can forget it.
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not access.can_review(_user()):
        abort(403)
    return None


@bp.app_context_processor
def _review_helpers() -> dict:
    return {"reason_label": present.label, "rejection_reasons": REJECTION_REASONS,
            "highlight": present.highlight, "percent": present.percent, "safe_link": present.safe_link,
            "describe_decider": operations.describe_decider, "now_utc": utcnow,
            "not_scored_reason": present.not_scored_reason, "model_score": present.model_score,
            "deciders": present.deciders}


@bp.get("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("review.queue"))


@bp.get("/review/")
def queue() -> ResponseReturnValue:
    user = _user()
    try:
        site = access.site_for(user, request.args["site"]) if request.args.get("site") else None
        queue_filter = queries.queue_filter(
            status=request.args.get("status"), site=site, article=request.args.get("article"),
            reason=request.args.get("reason"), language=request.args.get("language"))
        after = queries.decode_cursor(request.args.get("after"), queue_filter.status)
    except access.NotVisible:
        abort(404)
    except queries.BadFilter as error:
        return render_template("error.html", title="Bad filter", message=str(error)), 400
    size = int(current_app.config.get("REVIEW_PAGE_SIZE", queries.PAGE_SIZE))
    sites = access.visible_sites(user)
    return render_template(
        "review/queue.html", queue=queue_filter, page=queries.queue_page(user, queue_filter, after, size=size),
        counts=queries.list_counts(user, queue_filter), sites=sites,
        site_counts=queries.queued_per_site(user, sites), reason_filters=queries.REASON_FILTERS,
        lists=queries.LISTS, first_page=after is None,
    )


@bp.get("/review/comments/<int:comment_id>")
def card(comment_id: int) -> ResponseReturnValue:
    comment = _visible_comment(comment_id)
    context = queries.card_context(comment)
    return render_template("review/card.html", comment=comment, context=context,
                           bars=present.score_bars(comment.scores, context.thresholds),
                           history=present.history_lines(context.history),
                           article_link=present.safe_link(comment.article_url))


@bp.post("/review/comments/<int:comment_id>/decision")
def decide(comment_id: int) -> ResponseReturnValue:
    form = request.form
    try:
        outcome = operations.decide(_user(), comment_id, decision=form.get("decision", ""),
                                    expected_status=form.get("expected_status", ""),
                                    reason_code=form.get("reason_code"), note=form.get("note"))
    except InvalidAction as error:
        return _invalid(str(error))
    db.session.commit()
    return _answer([outcome], single=True)


@bp.post("/review/bulk")
def bulk() -> ResponseReturnValue:
    form = request.form
    try:
        ids = [parse_id(value) for value in form.getlist("ids")]
    except ValueError:
        return _invalid("the selection holds something that is not a comment id")
    try:
        outcomes = operations.decide_many(_user(), ids, decision=form.get("decision", ""),
                                          expected_status=form.get("expected_status", ""),
                                          reason_code=form.get("reason_code"), note=form.get("note"))
    except InvalidAction as error:
        return _invalid(str(error))
    db.session.commit()
    decision = form.get("decision", "")
    reason = dict(REJECTION_REASONS).get(form.get("reason_code") or "")
    done_what = decision.capitalize() + (f" ({reason})" if decision == "rejected" and reason else "")
    return _answer(outcomes, single=False, done_what=done_what)


@bp.post("/review/comments/<int:comment_id>/claim")
def claim(comment_id: int) -> ResponseReturnValue:
    # An id no column can hold names no claim: get() turns parse_id's ValueError into None.
    release = request.form.get("release", type=parse_id)
    outcome = operations.claim(_user(), comment_id, release=release)
    db.session.commit()
    return _answer([outcome], single=True)


@bp.post("/review/undo")
def undo() -> ResponseReturnValue:
    try:
        outcomes = operations.undo_last(_user())
    except InvalidAction as error:
        return _invalid(str(error), status=409)
    db.session.commit()
    return _answer(outcomes, single=False, done_what="Undone")


def _visible_comment(comment_id: int) -> Comment:
    try:
        return access.comment_for(_user(), comment_id)
    except access.NotVisible:
        abort(404)


def _summary(outcomes: list[ActionResult], single: bool, done_what: str = "Done") -> str:
    """One line for the toast: "Approved 3 of 3 comments." and what was refused, by whom."""
    if single:
        return outcomes[0].message
    done = sum(o.ok for o in outcomes)
    refused = [o for o in outcomes if not o.ok]
    noun = "comment" if len(outcomes) == 1 else "comments"
    text = f"{done_what}: {done} of {len(outcomes)} {noun}."
    if refused:
        text += " Not done: " + " ".join(f"#{o.comment_id}: {o.message}" for o in refused)
    return text


def _answer(outcomes: list[ActionResult], *, single: bool, done_what: str = "Done") -> ResponseReturnValue:
    """JSON for the page's fetches; a flash and a redirect back for plain form posts."""
    message = _summary(outcomes, single, done_what)
    all_ok = all(o.ok for o in outcomes)
    if single and outcomes[0].status is None:
        status = 404
    elif single and not all_ok:
        status = 409  # someone else decided or holds it: the page shows why
    else:
        status = 200
    if wants_json():
        response = jsonify(ok=all_ok, message=message, results=[o.to_dict() for o in outcomes])
        response.status_code = status
        return response
    flash(message, "success" if all_ok else "warning")
    return redirect(_back())


def _invalid(message: str, *, status: int = 400) -> ResponseReturnValue:
    if wants_json():
        response = jsonify(ok=False, error="invalid", message=message)
        response.status_code = status
        return response
    flash(message, "warning")
    return redirect(_back())


def _back() -> str:
    return local_path(request.form.get("next")) or local_path(request.referrer) or url_for("review.queue")
