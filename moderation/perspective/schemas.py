"""Perspective v1alpha1 request bodies: parsed and checked into plain values (no Flask, no database)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .attributes import category_for, is_known
from .errors import ApiError, invalid

MAX_TEXT_BYTES = 20_480  # Perspective's own limit on comment.text
TEXT_TYPES = ("PLAIN_TEXT", "HTML")
SCORE_TYPES = ("PROBABILITY",)  # the only type Perspective still returns


@dataclass(frozen=True)
class Requested:
    name: str  # as the client spelled it (the answer uses the same key)
    category: str | None  # the Detoxify class; None: a Perspective attribute no model here scores
    threshold: float | None


@dataclass(frozen=True)
class AnalyzeRequest:
    text: str
    text_type: str
    attributes: list[Requested]
    languages: list[str]
    do_not_store: bool
    span_annotations: bool
    drop_unsupported: bool
    client_token: str | None
    community_id: str | None
    session_id: str | None


@dataclass(frozen=True)
class Suggestion:
    name: str
    category: str
    value: float


@dataclass(frozen=True)
class SuggestRequest:
    text: str
    suggestions: list[Suggestion]
    languages: list[str]
    do_not_store: bool
    client_token: str | None
    community_id: str | None
    session_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)


def decode(body: bytes) -> dict[str, Any]:
    """The JSON object in a request body, or 400 INVALID_ARGUMENT saying where it broke."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "Invalid JSON payload received. The body is not UTF-8.") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, f"Invalid JSON payload received. {error.msg} at line {error.lineno} "
                            f"column {error.colno}.") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"Invalid JSON payload received. Expected an object, got {type(data).__name__}.")
    return data


def _object(data: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(path, f"Invalid value at '{path}': expected an object, got {json.dumps(value)[:80]}")
    return value


def _string(data: dict[str, Any], key: str, path: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise invalid(path, f"Invalid value at '{path}': expected a string, got {json.dumps(value)[:80]}")


def _bool(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if isinstance(value, bool):
        return value
    raise invalid(key, f"Invalid value at '{key}': expected true or false, got {json.dumps(value)[:80]}")


def _comment_text(data: dict[str, Any]) -> tuple[str, str]:
    comment = _object(data, "comment", "comment")
    text = _string(comment, "text", "comment.text") or ""
    text_type = _string(comment, "type", "comment.type") or "PLAIN_TEXT"
    if text_type not in TEXT_TYPES:
        raise invalid("comment.type", f"Invalid value at 'comment.type': expected one of "
                                      f"{', '.join(TEXT_TYPES)}, got {text_type!r}")
    if not text.strip():
        raise invalid("comment.text", "Comment must be non-empty.")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_TEXT_BYTES:
        raise invalid("comment.text", f"Comment text too long: {size} bytes; the limit is "
                                      f"{MAX_TEXT_BYTES} bytes (UTF-8).")
    return text, text_type


def _languages(data: dict[str, Any]) -> list[str]:
    value = data.get("languages")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise invalid("languages", "Invalid value at 'languages': expected a list of language codes")
    # BCP 47 tags: the primary subtag is what a model covers ("en-US" -> "en").
    return list(dict.fromkeys(v.strip().split("-")[0].split("_")[0].lower() for v in value))


def _unknown_attribute(name: str) -> ApiError:
    return invalid(f"requested_attributes[{name}]", f"Unknown attribute: {name}")


def _threshold(name: str, options: dict[str, Any]) -> float | None:
    threshold = options.get("scoreThreshold")
    path = f"requested_attributes[{name}].score_threshold"
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise invalid(path, f"Invalid value at '{path}': expected a number from 0 to 1, got "
                            f"{json.dumps(threshold)[:40]}")
    return float(threshold)


def _attributes(data: dict[str, Any]) -> list[Requested]:
    value = _object(data, "requestedAttributes", "requested_attributes")
    if not value:
        raise invalid("requested_attributes", "Requested attributes must be non-empty.")
    requested = []
    for name, options in value.items():
        if not is_known(name):
            raise _unknown_attribute(name)
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise invalid(f"requested_attributes[{name}]", f"Invalid value at 'requested_attributes[{name}]': "
                                                           "expected an object")
        score_type = options.get("scoreType") or "PROBABILITY"
        if score_type not in SCORE_TYPES:
            path = f"requested_attributes[{name}].score_type"
            raise invalid(path, f"Score type {score_type} is not supported; only PROBABILITY is.")
        requested.append(Requested(name, category_for(name), _threshold(name, options)))
    return requested


def parse_analyze(data: dict[str, Any]) -> AnalyzeRequest:
    text, text_type = _comment_text(data)
    return AnalyzeRequest(
        text=text, text_type=text_type, attributes=_attributes(data), languages=_languages(data),
        do_not_store=_bool(data, "doNotStore"), span_annotations=_bool(data, "spanAnnotations"),
        drop_unsupported=_bool(data, "dropUnsupportedAttributes"),
        client_token=_string(data, "clientToken", "client_token"),
        community_id=_string(data, "communityId", "community_id"),
        session_id=_string(data, "sessionId", "session_id"),
    )


def parse_suggestion(data: dict[str, Any]) -> SuggestRequest:
    text, _ = _comment_text(data)
    scores = _object(data, "attributeScores", "attribute_scores")
    if not scores:
        raise invalid("attribute_scores", "Attribute scores must be non-empty.")
    suggestions = []
    for name, entry in scores.items():
        category = category_for(name)
        if category is None:
            raise invalid(f"attribute_scores[{name}]", f"Unknown attribute: {name}")
        path = f"attribute_scores[{name}].summary_score.value"
        summary = entry.get("summaryScore") if isinstance(entry, dict) else None
        value = summary.get("value") if isinstance(summary, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value not in (0, 1):
            raise invalid(path, f"Invalid value at '{path}': a human label is 0 or 1, got "
                                f"{json.dumps(value)[:40]}")
        suggestions.append(Suggestion(name, category, float(value)))
    context = _object(data, "context", "context")
    return SuggestRequest(
        text=text, suggestions=suggestions, languages=_languages(data),
        do_not_store=_bool(data, "doNotStore"),
        client_token=_string(data, "clientToken", "client_token"),
        community_id=_string(data, "communityId", "community_id"),
        session_id=_string(data, "sessionId", "session_id"), context=context,
    )
