"""The comment API's requests and answers, each defined once: they validate and they document.

Pydantic models check a raw JSON body in one pass (its JSON parser refuses what Python's would
let through to a 500: lone surrogates, nesting thousands deep) and list every failing field;
the same models generate the schemas of the OpenAPI document (openapi.py). Pydantic is the
maintained library Flask projects use for this (it is already installed with transformers).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints,
                      field_validator,
                      ValidationError)
from pydantic_core import PydanticCustomError

from ..policy import STATUSES

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
    """A checked comment as the operations layer takes it (the webhook and Coral both make one)."""

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


class MalformedJSON(ValueError):
    """The body is not JSON this API can read; the message says where."""


# -- field types, shared by the webhook and Coral -------------------------------------------------
def _number_as_text(value: Any) -> Any:
    # Publishers often use numeric ids; both are accepted and kept as text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _servable_id(value: str) -> str:
    """An id must come back unchanged through GET .../comments/<id> and the review UI's links.

    '/' is fine inside an id (the route takes a path), but an empty, '.' or '..' segment is not:
    HTTP clients merge '//' and resolve dot segments before the request leaves them.
    """
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise PydanticCustomError("invalid_id", "must not contain control characters")
    if "/" in value and any(part in ("", ".", "..") for part in value.split("/")):
        raise PydanticCustomError(
            "invalid_id", "must not start or end with '/', hold '//' or have '.' or '..' between "
                          "slashes: such an id could not be read back by URL, got {value!r}", {"value": value})
    return value


Identifier = Annotated[
    str,
    BeforeValidator(_number_as_text, json_schema_input_type=str | int),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID),
    AfterValidator(_servable_id),
]


def _http_url(value: str) -> str:
    if not re.match(r"^https?://\S+$", value):
        raise PydanticCustomError("url", "must be an http or https URL, got {value!r}", {"value": value[:100]})
    return value


HttpUrl = Annotated[str, StringConstraints(max_length=MAX_URL), AfterValidator(_http_url),
                    Field(json_schema_extra={"format": "uri", "pattern": r"^https?://\S+$"})]


def _comment_html(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("empty", "must not be empty")
    tags = value.count("<")
    if tags > MAX_TAGS:
        raise PydanticCustomError("too_many_tags", "must contain at most {limit} HTML tags, got {tags}",
                                  {"limit": MAX_TAGS, "tags": tags})
    return value


CommentHtml = Annotated[str, StringConstraints(max_length=MAX_BODY_CHARS), AfterValidator(_comment_html)]


def _language(value: str) -> str:
    if not LANGUAGE_RE.match(value):
        raise PydanticCustomError("language", "must be a language code such as en or pt-BR, got {value!r}",
                                  {"value": value})
    return value.lower()


Language = Annotated[str, StringConstraints(max_length=16), AfterValidator(_language)]


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        # 0001-01-01T00:00:00+14:00 is a valid timestamp whose UTC time is before year 1.
        raise PydanticCustomError("datetime_range", "is outside the years 1 to 9999 once converted to UTC, "
                                                    "got {value}", {"value": value.isoformat()}) from None


Timestamp = Annotated[datetime, Field(strict=True), AfterValidator(_in_utc)]


class _Request(BaseModel):
    # Fields this API does not use are ignored: publishers send their own extras.
    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold U+0000 (SQLite can): refused alike on both, never a 500.
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError("nul_character", "must not contain the NUL character (U+0000)")
        return value


def readable_id(value: str) -> bool:
    """Whether an id from a URL could have been accepted (no control characters); others are unknown."""
    return not any(unicodedata.category(c) in ("Cc", "Cs") for c in value)


# -- the webhook's request -------------------------------------------------------------------------
class Article(_Request):
    id: Identifier | None = None
    url: HttpUrl | None = None
    title: Annotated[str, StringConstraints(max_length=MAX_TITLE)] | None = None


class Author(_Request):
    id: Identifier | None = None
    name: Annotated[str, StringConstraints(max_length=MAX_ID)] | None = None


class CommentRequest(_Request):
    """A new or edited comment, as the publisher posts it."""

    model_config = ConfigDict(title="IncomingComment")

    id: Identifier = Field(description="The publisher's comment id; numbers are kept as text.")
    body: CommentHtml = Field(description="Comment HTML or plain text.")
    article: Article | None = None
    author: Author | None = None
    created_at: Timestamp | None = Field(None, description="ISO 8601; UTC when no offset is given.")
    updated_at: Timestamp | None = Field(None, description="When this edit was made (ISO 8601).")
    parent_id: Identifier | None = None
    language: Language | None = Field(None, description="A language code; null: detected.")

    def incoming(self) -> IncomingComment:
        article, author = self.article or Article(), self.author or Author()
        return IncomingComment(
            external_id=self.id, body=self.body, article_id=article.id, article_url=article.url,
            article_title=article.title, author_id=author.id, author_name=author.name,
            parent_id=self.parent_id, created_at=self.created_at, language=self.language,
            updated_at=self.updated_at,
        )


# -- answers ---------------------------------------------------------------------------------------
class Reason(BaseModel):
    """Why the comment has its status; score and threshold for model categories, spans for words."""

    model_config = ConfigDict(extra="allow")

    code: str
    score: float | None = None
    threshold: float | None = None
    term: str | None = None
    start: int | None = None
    end: int | None = None
    language: str | None = None


class Match(BaseModel):
    model_config = ConfigDict(extra="allow")

    term: str
    category: str
    start: int = Field(description="Offset into `text`.")
    end: int


class CommentAnswer(BaseModel):
    """A comment's current state: the webhook's answer, GET's answer and a callback's data."""

    model_config = ConfigDict(title="Comment")

    id: int
    external_id: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    scores: dict[str, float]
    reasons: list[Reason]
    matches: list[Match]
    html: str = Field(description="The sanitised HTML.")
    text: str = Field(description="The plain text that was scored; match spans index it.")
    model: str | None
    policy_version: int | None
    language: str | None
    revision: int
    decided_by: str | None = Field(description="model, words (a word list) or human; null while pending.")
    reason_code: str | None
    decided_at: datetime | None


class FieldError(BaseModel):
    field: str = Field(description="The failing field's path, e.g. article.url; empty for the body.")
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(title="Problem")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


# -- turning pydantic's errors into ours ------------------------------------------------------------
_JSON_TYPES = {str: "string", int: "number", float: "number", bool: "boolean", list: "array",
               dict: "object", type(None): "null"}


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """One entry per failing field: its dotted path and what was expected (and what came)."""
    errors = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"])
        message = item["msg"]
        if item["type"] == "missing":
            message = "is required"
        elif item["type"].endswith("_type"):
            message = f"{message}, got {_JSON_TYPES.get(type(item['input']), type(item['input']).__name__)}"
        errors.append({"field": field, "message": message})
    return errors


def validate_json(model: type[BaseModel], body: bytes) -> Any:
    """The model built from a raw JSON body; MalformedJSON or ValidationFailed otherwise."""
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        broken = [item for item in error.errors(include_url=False) if item["type"] == "json_invalid"]
        if broken:
            reason = broken[0]["ctx"].get("error", broken[0]["msg"]) if broken[0].get("ctx") else broken[0]["msg"]
            if "surrogate" in reason or "hex escape" in reason or "unicode code point" in reason:
                reason += " (\\uD800-\\uDFFF escapes must come as valid surrogate pairs)"
            raise MalformedJSON(f"the body is not valid JSON: {reason}") from None
        raise ValidationFailed(field_errors(error)) from None


def parse_comment(body: bytes) -> IncomingComment:
    """Check a raw webhook body; raise MalformedJSON, or ValidationFailed listing every failing field."""
    return validate_json(CommentRequest, body).incoming()
