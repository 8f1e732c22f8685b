"""The API's OpenAPI 3.1 document, served at /api/v1/openapi.json."""
from __future__ import annotations

from typing import Any

STATUS = {"type": "string", "enum": ["pending", "approved", "queued", "rejected"]}

PROBLEM = {
    "description": "RFC 9457 problem details",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}

SITE_PARAM = {"name": "site", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "The site's slug."}


def _problems(*codes: int) -> dict[str, Any]:
    return {str(code): PROBLEM for code in codes}


def document(version: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Comment moderation API",
            "version": version,
            "description": "Publishers post each new or edited comment, signed by the Standard "
                           "Webhooks scheme, and get a decision back.",
        },
        "paths": {
            "/api/v1/sites/{site}/comments": {
                "post": {
                    "summary": "Moderate a new or edited comment",
                    "parameters": [SITE_PARAM] + [
                        {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
                    ],
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/IncomingComment"}}}},
                    "responses": {
                        "200": {"description": "Decided", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Comment"}}}},
                        "202": {"description": "Accepted and stored, decision pending (a signed "
                                               "callback follows)", "content": {"application/json": {
                                                   "schema": {"$ref": "#/components/schemas/Comment"}}}},
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
                                                "description": "The publisher's comment id."}],
                    "responses": {
                        "200": {"description": "The comment", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Comment"}}}},
                        **_problems(401, 404),
                    },
                },
            },
            "/api/v1/sites/{site}/integrations/coral": {
                "post": {
                    "summary": "Coral external moderation phase",
                    "parameters": [SITE_PARAM, {"name": "X-Coral-Signature", "in": "header",
                                                "required": True, "schema": {"type": "string"}}],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"type": "object"}}}},
                    "responses": {
                        "200": {"description": "Coral's moderation answer", "content": {
                            "application/json": {"schema": {"type": "object"}}}},
                        "204": {"description": "No action"},
                        **_problems(400, 401, 404, 413, 415, 422),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"siteToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "IncomingComment": {
                    "type": "object",
                    "required": ["id", "body"],
                    "properties": {
                        "id": {"type": ["string", "integer"]},
                        "article": {"type": "object", "properties": {
                            "id": {"type": "string"}, "url": {"type": "string", "format": "uri"},
                            "title": {"type": "string"}}},
                        "author": {"type": "object", "properties": {
                            "id": {"type": "string"}, "name": {"type": "string"}}},
                        "body": {"type": "string", "description": "Comment HTML or plain text"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "parent_id": {"type": ["string", "null"]},
                        "language": {"type": ["string", "null"]},
                    },
                },
                "Comment": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "external_id": {"type": "string"},
                        "status": STATUS,
                        "scores": {"type": "object", "additionalProperties": {"type": "number"}},
                        "reasons": {"type": "array", "items": {"type": "object"}},
                        "matches": {"type": "array", "items": {"type": "object", "properties": {
                            "term": {"type": "string"}, "category": {"type": "string"},
                            "start": {"type": "integer"}, "end": {"type": "integer"}}}},
                        "html": {"type": "string"},
                        "model": {"type": ["string", "null"]},
                        "policy_version": {"type": ["integer", "null"]},
                    },
                },
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"},
                        "status": {"type": "integer"}, "detail": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object", "properties": {
                            "field": {"type": "string"}, "message": {"type": "string"}}}},
                    },
                },
            },
        },
    }
