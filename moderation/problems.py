"""RFC 9457 problem details: every API error is application/problem+json with a clear detail."""
from __future__ import annotations

from typing import Any

from flask import Response, json

PROBLEM_TYPE_BASE = "https://moderation.example/problems/"

TITLES = {
    400: "Malformed request",
    401: "Signature verification failed",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid fields",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(Exception):
    """Raise from a view to answer with problem+json."""

    def __init__(self, status: int, detail: str, *, slug: str | None = None,
                 errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
                 title: str | None = None):
        super().__init__(detail)
        self.title = title
        self.status = status
        self.detail = detail
        self.slug = slug
        self.errors = errors
        self.headers = headers or {}


def problem_response(status: int, detail: str, *, slug: str | None = None,
                     errors: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None, title: str | None = None) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or str(status)),
        # 401 means a refused signature on the webhooks, a refused token on GET: the view says which.
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def from_exception(error: Problem) -> Response:
    return problem_response(error.status, error.detail, slug=error.slug, errors=error.errors,
                            headers=error.headers, title=error.title)
