"""Coral's external moderation request: checked field by field into a CoralRequest."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..problems import Problem
from .schemas import MAX_BODY_CHARS, MAX_ID, MAX_TAGS, IncomingComment

ACTIONS = ("NEW", "EDIT")


@dataclass(frozen=True)
class CoralRequest:
    action: str
    body: str
    comment_id: str | None
    parent_id: str | None
    author_id: str
    story_id: str
    story_url: str | None
    coral_site_id: str | None
    tenant_id: str | None

    def external_id(self) -> str:
        if self.comment_id:
            return f"coral:{self.comment_id}"[:MAX_ID]
        identity = [self.tenant_id, self.coral_site_id, self.story_id, self.author_id, self.parent_id, self.body]
        digest = hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()
        return f"coral:{digest[:40]}"

    def incoming(self) -> IncomingComment:
        return IncomingComment(
            external_id=self.external_id(), body=self.body, article_id=self.story_id,
            article_url=self.story_url, article_title=None, author_id=self.author_id, author_name=None,
            parent_id=self.parent_id, created_at=None, language=None,
        )


def _text(data: dict, key: str, errors: list[dict[str, str]], field: str, *, required: bool,
          limit: int = MAX_ID) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            errors.append({"field": field, "message": "is required"})
        return None
    if not isinstance(value, str):
        errors.append({"field": field, "message": f"must be a string, got {type(value).__name__}"})
        return None
    if len(value) > limit:
        errors.append({"field": field, "message": f"must be at most {limit} characters, got {len(value)}"})
        return None
    return value


def _object(data: dict, key: str, errors: list[dict[str, str]]) -> dict:
    value = data.get(key)
    if isinstance(value, dict):
        return value
    errors.append({"field": key, "message": "is required" if value is None else
                   f"must be an object, got {type(value).__name__}"})
    return {}


def parse_coral(data: Any) -> CoralRequest:
    """Check Coral's request; raise a 422 Problem listing every failing field."""
    if not isinstance(data, dict):
        raise Problem(422, "the request is not a Coral external moderation request", slug="invalid-fields",
                      errors=[{"field": "", "message": f"must be a JSON object, got {type(data).__name__}"}])
    errors: list[dict[str, str]] = []
    action = data.get("action")
    if action not in ACTIONS:
        errors.append({"field": "action", "message": f"must be one of {', '.join(ACTIONS)}, got {action!r}"})
    comment, author, story = (_object(data, key, errors) for key in ("comment", "author", "story"))
    site = data.get("site") if isinstance(data.get("site"), dict) else {}
    body = _text(comment, "body", errors, "comment.body", required=True, limit=MAX_BODY_CHARS)
    if body is not None and not body.strip():
        errors.append({"field": "comment.body", "message": "must not be empty"})
    elif body is not None and body.count("<") > MAX_TAGS:
        errors.append({"field": "comment.body", "message": f"must contain at most {MAX_TAGS} HTML tags"})
    story_url = _text(story, "url", errors, "story.url", required=False, limit=2000)
    request_ = CoralRequest(
        action=str(action), body=body or "",
        comment_id=_text(comment, "id", errors, "comment.id", required=False),
        parent_id=_text(comment, "parentID", errors, "comment.parentID", required=False),
        author_id=_text(author, "id", errors, "author.id", required=True) or "",
        story_id=_text(story, "id", errors, "story.id", required=True) or "",
        # Coral stories normally have http(s) URLs; anything else is dropped rather than refused.
        story_url=story_url if story_url and story_url.startswith(("http://", "https://")) else None,
        coral_site_id=_text(site, "id", errors, "site.id", required=False),
        # Older Coral releases send {tenant: {id, domain}}, newer ones tenantID/tenantDomain.
        tenant_id=_text(data, "tenantID", errors, "tenantID", required=False)
        or _text(data.get("tenant") if isinstance(data.get("tenant"), dict) else {}, "id", errors,
                 "tenant.id", required=False),
    )
    if errors:
        raise Problem(422, "the Coral request has invalid fields", slug="invalid-fields", errors=errors)
    return request_
