"""The publisher API: the signed comment webhook and the comment status endpoint."""
from __future__ import annotations

import json
import logging

from flask import Blueprint, current_app, g, jsonify, request

from .. import runtime, sites
from ..comments import payload
from ..extensions import limiter
from ..models import Site, utcnow
from ..problems import Problem
from .operations import find_comment, receive
from .schemas import ValidationFailed, parse_comment
from .signatures import SignatureInvalid, verify_standard

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def site_rate_key() -> str:
    return "site:" + (request.view_args or {}).get("site", "")


def webhook_limit() -> str:
    return current_app.config["RATELIMIT_WEBHOOK"]


def counts_against_site(response) -> bool:
    """Only signed requests use up a site's quota: forged ones must not lock the publisher out."""
    return response.status_code not in (401, 404)


def load_site(slug: str) -> Site:
    site = sites.by_slug(slug)
    if site is None:
        raise Problem(404, f"no site with slug {slug!r}", slug="unknown-site")
    g.site = slug
    return site


def require_json() -> None:
    if request.mimetype != "application/json":
        raise Problem(415, f"Content-Type must be application/json, got {request.mimetype or 'none'!r}",
                      slug="unsupported-media-type")


def read_body() -> bytes:
    """The raw body (over MAX_CONTENT_LENGTH, werkzeug raises 413 before reading it all)."""
    return request.get_data(cache=True)


def decode_json(body: bytes):
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Problem(400, "the body is not UTF-8", slug="malformed-json") from None
    except json.JSONDecodeError as error:
        raise Problem(400, f"the body is not valid JSON: {error.msg} at line {error.lineno} "
                           f"column {error.colno}", slug="malformed-json") from None


def answer(comment, *, replayed: bool, webhook: bool = True):
    response = jsonify(payload(comment))
    # The webhook answers 202 while the decision is still to come; a plain read is always 200.
    response.status_code = 202 if webhook and comment.status == "pending" else 200
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    g.comment_id = comment.id
    g.decision = comment.status
    return response


@bp.post("/sites/<site>/comments")
@limiter.limit(webhook_limit, key_func=site_rate_key, deduct_when=counts_against_site)
def receive_comment(site: str):
    """A new or edited comment, signed by the site's Standard Webhooks secret."""
    require_json()
    target = load_site(site)
    body = read_body()
    try:
        verify_standard(body, request.headers, target.webhook_secrets(utcnow()))
    except SignatureInvalid as error:
        raise Problem(401, f"webhook signature refused: {error}", slug="invalid-signature") from None
    try:
        incoming = parse_comment(decode_json(body))
    except ValidationFailed as error:
        raise Problem(422, "the comment has invalid fields", slug="invalid-fields",
                      errors=error.errors) from None

    received = receive(target, incoming, webhook_id=request.headers.get("webhook-id"), scorer=runtime.scorer())
    response = jsonify(received.body)
    response.status_code = received.status_code
    if received.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    g.comment_id, g.decision = received.comment_id, received.status
    return response


@bp.get("/openapi.json")
def openapi():
    from importlib.metadata import PackageNotFoundError, version

    from .openapi import document

    try:
        package_version = version("moderation")
    except PackageNotFoundError:
        package_version = "0"
    return jsonify(document(package_version))


@bp.get("/sites/<site>/comments/<external_id>")
def comment_status(site: str, external_id: str):
    """The current state of a comment, for the site's API token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "send the site's API token as 'Authorization: Bearer <token>'",
                      slug="missing-token", headers={"WWW-Authenticate": "Bearer"})
    target = sites.site_for_token(site, token.strip())
    if target is None:
        # One answer for unknown site and wrong token: do not reveal which sites exist.
        raise Problem(401, "the API token is not valid for this site", slug="invalid-token",
                      headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    g.site = site
    comment = find_comment(target.id, external_id)
    if comment is None:
        raise Problem(404, f"no comment with id {external_id!r} on site {site!r}", slug="unknown-comment")
    return answer(comment, replayed=False, webhook=False)
