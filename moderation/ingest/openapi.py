"""The API's OpenAPI 3.1 document, served at /api/v1/openapi.json, generated from the models that validate."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic.json_schema import models_json_schema

from .coral_request import CoralAnswer, CoralPhaseRequest
from .schemas import CommentAnswer, CommentRequest, ProblemDetails

REF = "#/components/schemas/{model}"
SITE_PARAM = {"name": "site", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "The site's slug."}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before asking again.",
                               "schema": {"type": "integer", "minimum": 1}}}
REPLAYED = {"Idempotent-Replayed": {"description": "`true` when this answers a delivery received before.",
                                    "schema": {"type": "string", "enum": ["true"]}}}
PROBLEM_DESCRIPTIONS = {
    400: "The body is not JSON encoded as UTF-8",
    401: "The signature or token is refused",
    404: "No such site or comment",
    413: "The body is too large",
    415: "The Content-Type is not application/json",
    422: "Invalid fields, each listed in `errors`",
    429: "Rate limited; Retry-After says when to come back",
}


def _json(model_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=model_name)}}}


def _problems(*codes: int) -> dict[str, Any]:
    responses = {}
    for code in codes:
        response: dict[str, Any] = {
            "description": PROBLEM_DESCRIPTIONS[code],
            "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}},
        }
        if code == 429:
            response["headers"] = RETRY_AFTER
        responses[str(code)] = response
    return responses


def _schemas() -> dict[str, Any]:
    models = [(CommentRequest, "validation"), (CommentAnswer, "serialization"),
              (CoralPhaseRequest, "validation"), (CoralAnswer, "serialization"),
              (ProblemDetails, "serialization")]
    _, definitions = models_json_schema(models, ref_template=REF)
    # Pydantic names a schema after its class; the document uses the models' titles (Comment,
    # Problem...), which say what a client gets without clashing with the database models' names.
    titles = {model.__name__: model.model_config.get("title") or model.__name__ for model, _ in models}
    text = json.dumps(definitions["$defs"])
    for name, title in titles.items():
        text = text.replace(json.dumps(REF.format(model=name)), json.dumps(REF.format(model=title)))
    return {titles.get(name, name): schema for name, schema in json.loads(text).items()}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    try:
        package_version = version("moderation")
    except PackageNotFoundError:
        package_version = "0"
    signature_headers = [{"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                         for name in ("webhook-id", "webhook-timestamp", "webhook-signature")]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Comment moderation API",
            "version": package_version,
            "description": "Publishers post each new or edited comment, signed by the Standard "
                           "Webhooks scheme, and get a decision back.",
        },
        "paths": {
            "/api/v1/sites/{site}/comments": {
                "post": {
                    "summary": "Moderate a new or edited comment",
                    "parameters": [SITE_PARAM, *signature_headers],
                    "requestBody": {"required": True, "content": _json("IncomingComment")},
                    "responses": {
                        "200": {"description": "Decided", "headers": REPLAYED, "content": _json("Comment")},
                        "202": {"description": "Stored, decision pending (a signed callback follows)",
                                "headers": RETRY_AFTER | REPLAYED, "content": _json("Comment")},
                        **_problems(400, 401, 404, 413, 415, 422, 429),
                    },
                },
            },
            "/api/v1/sites/{site}/comments/{id}": {
                "get": {
                    "summary": "The current state of a comment",
                    "security": [{"siteToken": []}],
                    "parameters": [SITE_PARAM, {"name": "id", "in": "path", "required": True,
                                                "schema": {"type": "string"},
                                                "description": "The publisher's comment id, URL-encoded."}],
                    "responses": {
                        "200": {"description": "The comment", "content": _json("Comment")},
                        **_problems(401, 404),
                    },
                },
            },
            "/api/v1/sites/{site}/integrations/coral": {
                "post": {
                    "summary": "Coral external moderation phase",
                    "parameters": [SITE_PARAM, {"name": "X-Coral-Signature", "in": "header",
                                                "required": True, "schema": {"type": "string"}}],
                    "requestBody": {"required": True, "content": _json("CoralRequest")},
                    "responses": {
                        "200": {"description": "Coral's moderation answer; SYSTEM_WITHHELD also when a "
                                               "signed request cannot be read or is over the site's quota "
                                               "(a 4xx would make Coral publish the comment)",
                                "content": _json("CoralAnswer")},
                        **_problems(400, 401, 404, 413, 415, 429),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"siteToken": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
    }
