"""Errors in Google's JSON shape: {"error": {"code", "message", "status", "details"}}."""
from __future__ import annotations

from typing import Any

from flask import Response, json

SERVICE = "commentanalyzer.googleapis.com"
# HTTP status -> google.rpc.Code name, as Google's APIs pair them.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    405: "INVALID_ARGUMENT", 409: "ABORTED", 413: "INVALID_ARGUMENT", 415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE",
}
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
ANALYZER_ERROR = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"


class ApiError(Exception):
    """Raise from the Perspective views; answered in Google's error shape."""

    def __init__(self, code: int, message: str, *, details: list[dict[str, Any]] | None = None,
                 status: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = details or []
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status,
                          "details": self.details}}

    def response(self) -> Response:
        response = Response(json.dumps(self.to_dict()), status=self.code, mimetype="application/json")
        for key, value in self.headers.items():
            response.headers[key] = value
        return response


def error_info(reason: str, **metadata: str) -> dict[str, Any]:
    return {"@type": ERROR_INFO, "reason": reason, "domain": "googleapis.com",
            "metadata": {"service": SERVICE, **metadata}}


def field_violation(field: str, description: str) -> dict[str, Any]:
    return {"@type": BAD_REQUEST, "fieldViolations": [{"field": field, "description": description}]}


def invalid(field: str, message: str) -> ApiError:
    """400 INVALID_ARGUMENT naming the failing field."""
    return ApiError(400, message, details=[field_violation(field, message)])


def analyzer_error(error_type: str, message: str, **extra: Any) -> ApiError:
    """400 with Perspective's own error detail (errorType and its payload)."""
    detail: dict[str, Any] = {"@type": ANALYZER_ERROR, "errorType": error_type}
    detail.update(extra)
    return ApiError(400, message, details=[detail])


def missing_key() -> ApiError:
    return ApiError(403, "The request is missing a valid API key.",
                    details=[error_info("API_KEY_INVALID")], status="PERMISSION_DENIED")


def bad_key() -> ApiError:
    # Google answers an unknown and a deleted key alike, so no one learns which keys existed.
    return ApiError(400, "API key not valid. Please pass a valid API key.",
                    details=[error_info("API_KEY_INVALID")])
