"""The Perspective-compatible endpoints: analyze, suggestscore and the discovery document."""
from __future__ import annotations

import hashlib
import logging
import traceback

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import runtime
from ..extensions import db, limiter
from ..models import ApiKey
from . import analysis, keys, labels
from .discovery import document
from .errors import ApiError, bad_key, error_info, missing_key
from .schemas import decode, parse_analyze, parse_suggestion

logger = logging.getLogger(__name__)

bp = Blueprint("perspective", __name__)


def presented_key() -> str | None:
    key = request.args.get("key") or request.headers.get("X-Goog-Api-Key")
    return key.strip() if key and key.strip() else None


def key_rate_key() -> str:
    """Limits count per key (its hash: the key itself never reaches the limiter's storage)."""
    key = presented_key()
    if key is None:
        return "perspective-anonymous:" + (request.remote_addr or "")
    return "perspective:" + hashlib.sha256(key.encode()).hexdigest()[:24]


def qps_limit() -> str:
    return f"{current_app.config['PERSPECTIVE_QPS']} per second"


def authenticate() -> ApiKey:
    key = presented_key()
    if key is None:
        raise missing_key()
    row = keys.active_key(key)
    if row is None:
        raise bad_key()
    g.site = row.site.slug
    return row


def _body() -> dict:
    return decode(request.get_data(cache=True))


def _keyed(parse, handle):
    """A keyed request: the key checked, the body parsed, handled, the key's use counted, one commit."""
    row = authenticate()
    answer = handle(row, parse(_body()), runtime.scorer())
    keys.count_use(row)
    db.session.commit()
    return jsonify(answer)


@bp.post("/v1alpha1/comments:analyze")
@limiter.limit(qps_limit, key_func=key_rate_key)
def analyze():
    return _keyed(parse_analyze, analysis.analyze)


@bp.post("/v1alpha1/comments:suggestscore")
@limiter.limit(qps_limit, key_func=key_rate_key)
def suggestscore():
    return _keyed(parse_suggestion, labels.suggest)


@bp.get("/$discovery/rest")
def discovery():
    version = request.args.get("version", "v1alpha1")
    if version != "v1alpha1":
        raise ApiError(404, f"Discovery document not found for API service: commentanalyzer "
                            f"format: rest version: {version}")
    # request.host_url follows X-Forwarded-* wherever the deployment wraps the app in ProxyFix.
    return jsonify(document(request.host_url))


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    db.session.rollback()
    return error.response()


def google_error(error: HTTPException):
    """Any HTTP error on these paths (routing, 413, 429) in Google's shape."""
    code = error.code or 500
    if code == 429:
        api_error = ApiError(429, f"Quota exceeded for this API key ({error.description}).",
                             details=[error_info("RATE_LIMIT_EXCEEDED")])
    elif code == 413:
        api_error = ApiError(413, "Request payload size exceeds the limit: "
                                  f"{current_app.config['MAX_CONTENT_LENGTH']} bytes.")
    else:
        api_error = ApiError(code, error.description or error.name)
    api_error.headers = {k: v for k, v in error.get_headers() if k.lower() in ("retry-after", "allow")}
    return api_error.response()


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return google_error(error)


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    # Never a bare 500 page: a bug answers in Google's shape, logged without the request body.
    db.session.rollback()
    # The traceback without the exception's message: a message may quote a doNotStore text.
    logger.error("perspective request failed: %s\n%s", type(error).__name__,
                 "".join(traceback.format_tb(error.__traceback__)))
    return ApiError(500, "Internal error.").response()
