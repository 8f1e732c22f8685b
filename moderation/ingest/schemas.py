"""Validation of the comment webhook's JSON: each failing field with what was expected."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

MAX_ID = 255
MAX_URL = 2000
MAX_TITLE = 1000
MAX_BODY_CHARS = 100_000
# Bleach's HTML parser slows down with the square of nesting depth (10,000 nested tags took
# about 2.7 s), so a body with more tags than any real comment has is refused up front.
MAX_TAGS = 2_000
LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class IncomingComment:
    external_id: str
    body: str
    article_id: str | None
    article_url: str | None
    article_title: str | None
    author_id: str | None
    author_name: str | None
    parent_id: str | None
    created_at: datetime | None
    language: str | None
    # When the publisher made this version (an edit's time): orders edits that arrive out of order.
    updated_at: datetime | None = None


class ValidationFailed(ValueError):
    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def identifier(self, value: Any, field: str, *, required: bool) -> str | None:
        if value is None:
            if required:
                self.fail(field, "is required")
            return None
        # Publishers often use numeric ids; both are accepted and kept as text.
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.fail(field, f"must be a string, got {type(value).__name__}")
            return None
        text = str(value).strip()
        if not text:
            self.fail(field, "must not be empty")
        elif len(text) > MAX_ID:
            self.fail(field, f"must be at most {MAX_ID} characters, got {len(text)}")
        return text or None

    def text(self, value: Any, field: str, limit: int) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(field, f"must be a string, got {type(value).__name__}")
            return None
        if len(value) > limit:
            self.fail(field, f"must be at most {limit} characters, got {len(value)}")
            return None
        return value

    def url(self, value: Any, field: str) -> str | None:
        text = self.text(value, field, MAX_URL)
        if text is not None and not re.match(r"^https?://\S+$", text):
            self.fail(field, "must be an http or https URL")
            return None
        return text

    def obj(self, value: Any, field: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(field, f"must be an object, got {type(value).__name__}")
            return {}
        return value

    def timestamp(self, value: Any, field: str) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(field, "must be an ISO 8601 timestamp string")
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail(field, f"must be an ISO 8601 timestamp such as 2021-04-16T12:00:00Z, got {value!r}")
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)


def parse_comment(data: Any) -> IncomingComment:
    """Check a decoded webhook body; raise ValidationFailed listing every failing field."""
    check = _Checker()
    if not isinstance(data, dict):
        raise ValidationFailed([{"field": "", "message": f"must be a JSON object, got {type(data).__name__}"}])
    external_id = check.identifier(data.get("id"), "id", required=True)
    body = data.get("body")
    if body is None:
        check.fail("body", "is required")
    elif not isinstance(body, str):
        check.fail("body", f"must be a string, got {type(body).__name__}")
        body = None
    elif not body.strip():
        check.fail("body", "must not be empty")
    elif len(body) > MAX_BODY_CHARS:
        check.fail("body", f"must be at most {MAX_BODY_CHARS} characters, got {len(body)}")
    elif body.count("<") > MAX_TAGS:
        check.fail("body", f"must contain at most {MAX_TAGS} HTML tags, got {body.count('<')}")
    article = check.obj(data.get("article"), "article")
    author = check.obj(data.get("author"), "author")
    language = check.text(data.get("language"), "language", 16)
    if language is not None and not LANGUAGE_RE.match(language):
        check.fail("language", f"must be a language code such as en or pt-BR, got {language!r}")
        language = None
    result = IncomingComment(
        external_id=external_id or "",
        body=body or "",
        article_id=check.identifier(article.get("id"), "article.id", required=False),
        article_url=check.url(article.get("url"), "article.url"),
        article_title=check.text(article.get("title"), "article.title", MAX_TITLE),
        author_id=check.identifier(author.get("id"), "author.id", required=False),
        author_name=check.text(author.get("name"), "author.name", MAX_ID),
        parent_id=check.identifier(data.get("parent_id"), "parent_id", required=False),
        created_at=check.timestamp(data.get("created_at"), "created_at"),
        language=language.lower() if language else None,
        updated_at=check.timestamp(data.get("updated_at"), "updated_at"),
    )
    if check.errors:
        raise ValidationFailed(check.errors)
    return result
