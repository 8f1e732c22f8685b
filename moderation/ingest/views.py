"""The publisher API: the signed comment webhook and the comment status endpoint."""
from __future__ import annotations

import logging
import math
from collections.abc import Callable

from flask import Blueprint, current_app, g, jsonify, request

from .. import runtime, sites
from ..comments import payload
from ..extensions import db
from ..models import Comment, Site, utcnow
from ..problems import Problem
from . import quota
from .operations import find_comment, receive
from .schemas import MalformedJSON, ValidationFailed, parse_comment, readable_id
from .signatures import SignatureInvalid, verify_standard

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


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


def too_large() -> Problem:
    return Problem(413, f"the body is larger than {current_app.config['MAX_BODY_BYTES']} bytes",
                   slug="payload-too-large")


def read_body() -> bytes:
    """The raw body, refused with 413 past MAX_CONTENT_LENGTH however it is sent."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None:
        return request.get_data(cache=True)  # werkzeug refuses a declared length over the limit
    # Chunked: no length up front, and werkzeug's stream would quietly stop at the limit, so the
    # truncated body would fail its signature (401) instead of being called too large.
    stream, chunks, size = request.input_stream, [], 0
    while size <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise too_large()
    return b"".join(chunks)


def require_utf8(body: bytes) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(400, f"the body is not UTF-8 (byte {error.start} is not valid): send JSON "
                           "encoded as UTF-8", slug="malformed-json") from None


def receive_signed(slug: str, verify: Callable[[Site, bytes], object], refused: str) -> tuple[Site, bytes]:
    """The site and the raw body of a request signed for it, or the problem that refuses it.

    Refusals up to the signature check count against the client address; a signed request
    counts against the site's quota (quota.py says why), and past it raises quota.SiteOverQuota.
    """
    with quota.unsigned_refusals():
        require_json()
        target = load_site(slug)
        body = read_body()
        require_utf8(body)
        try:
            verify(target, body)
        except SignatureInvalid as error:
            raise Problem(401, f"{refused}: {error}", slug="invalid-signature") from None
    quota.charge_site(slug)
    return target, body


def parse_signed(parse: Callable[[bytes], object], body: bytes, what: str):
    """A signed body checked by its model: 400 when it is not JSON, 422 listing each failing field."""
    try:
        return parse(body)
    except MalformedJSON as error:
        raise Problem(400, str(error), slug="malformed-json") from None
    except ValidationFailed as error:
        raise Problem(422, f"{what} has invalid fields", slug="invalid-fields", errors=error.errors) from None


def answer(comment, *, replayed: bool, webhook: bool = True):
    response = jsonify(payload(comment))
    # The webhook answers 202 while the decision is still to come; a plain read is always 200.
    response.status_code = 202 if webhook and comment.status == "pending" else 200
    if response.status_code == 202:
        response.headers["Retry-After"] = str(pending_retry_after(comment))
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    g.comment_id = comment.id
    g.decision = comment.status
    return response


def pending_retry_after(comment: Comment | None) -> int:
    """Seconds before a pending comment is worth asking about again (GET, or the callback comes)."""
    config = current_app.config
    # A scorer that failed to load is retried after SCORER_RETRY_AFTER; otherwise the worker's next poll.
    failed = comment is not None and comment.scoring_error
    seconds = config["SCORER_RETRY_AFTER"] if failed else config["WORKER_POLL_SECONDS"]
    return max(1, math.ceil(float(seconds)))


@bp.post("/sites/<site>/comments")
def receive_comment(site: str):
    """A new or edited comment, signed by the site's Standard Webhooks secret."""
    target, body = receive_signed(
        site, lambda target, body: verify_standard(body, request.headers, target.webhook_secrets(utcnow())),
        "webhook signature refused")
    incoming = parse_signed(parse_comment, body, "the comment")

    scorer = runtime.scorer()
    # Announced to the scorer while the comment is stored: a forward pass starting meanwhile
    # waits a few milliseconds for it (batching.py), a lone request none.
    with scorer.expecting():
        received = receive(target, incoming, webhook_id=request.headers.get("webhook-id"), scorer=scorer)
    response = jsonify(received.body)
    response.status_code = received.status_code
    if response.status_code == 202:
        comment = db.session.get(Comment, received.comment_id) if received.comment_id else None
        response.headers["Retry-After"] = str(pending_retry_after(comment))
    if received.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    g.comment_id, g.decision = received.comment_id, received.status
    return response


@bp.get("/openapi.json")
def openapi():
    from .openapi import document

    return jsonify(document())


# `path`: comment ids may hold '/' (schemas.Identifier refuses the ones a URL cannot carry back).
@bp.get("/sites/<site>/comments/<path:external_id>")
def comment_status(site: str, external_id: str):
    """The current state of a comment, for the site's API token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "send the site's API token as 'Authorization: Bearer <token>'",
                      slug="missing-token", title="API token missing", headers={"WWW-Authenticate": "Bearer"})
    target = sites.site_for_token(site, token.strip())
    if target is None:
        # One answer for unknown site and wrong token: do not reveal which sites exist.
        raise Problem(401, "the API token is not valid for this site", slug="invalid-token",
                      title="API token refused", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    g.site = site
    comment = find_comment(target.id, external_id) if readable_id(external_id) else None
    if comment is None:
        raise Problem(404, f"no comment with id {external_id!r} on site {site!r}", slug="unknown-comment")
    return answer(comment, replayed=False, webhook=False)
