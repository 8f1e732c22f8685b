"""The v1alpha1 discovery document (Google's API description format) with this service as its root.

Written here rather than copied from Google: it describes what this service accepts and
answers, so a generated client sees the same fields Perspective's did.
"""
from __future__ import annotations

from typing import Any

from .attributes import ATTRIBUTES


def _object(schema_id: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"id": schema_id, "type": "object", "description": description, "properties": properties}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": name}


def _map_of(name: str, description: str) -> dict[str, Any]:
    return {"type": "object", "description": description, "additionalProperties": _ref(name)}


_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
_NUMBER = {"type": "number", "format": "float"}
_INTEGER = {"type": "integer", "format": "int32"}
_LANGUAGES = {"type": "array", "items": _STRING, "description": "ISO 639-1 language codes."}

SCHEMAS: dict[str, Any] = {
    "TextEntry": _object("TextEntry", "Represents a body of text.", {
        "text": {**_STRING, "description": "UTF-8 encoded text."},
        "type": {**_STRING, "enum": ["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"]},
    }),
    "ArticleAndParentComment": _object("ArticleAndParentComment", "The comment's article and parent.", {
        "article": _ref("TextEntry"), "parentComment": _ref("TextEntry"),
    }),
    "Context": _object("Context", "Context of the comment (accepted; not used for scoring).", {
        "entries": {"type": "array", "items": _ref("TextEntry")},
        "articleAndParentComment": _ref("ArticleAndParentComment"),
    }),
    "AttributeParameters": _object("AttributeParameters", "Options for one requested attribute.", {
        "scoreType": {**_STRING, "enum": ["SCORE_TYPE_UNSPECIFIED", "PROBABILITY"]},
        "scoreThreshold": {**_NUMBER, "description": "Scores under this value are left out."},
    }),
    "AnalyzeCommentRequest": _object("AnalyzeCommentRequest", "The comment analysis request message.", {
        "comment": _ref("TextEntry"),
        "context": _ref("Context"),
        "requestedAttributes": _map_of("AttributeParameters",
                                       "Attributes to score: " + ", ".join(ATTRIBUTES) + "."),
        "spanAnnotations": {**_BOOLEAN, "description": "Also score each sentence."},
        "languages": _LANGUAGES,
        "doNotStore": {**_BOOLEAN, "description": "Never store the text."},
        "clientToken": _STRING,
        "sessionId": _STRING,
        "communityId": _STRING,
        "dropUnsupportedAttributes": _BOOLEAN,
    }),
    "Score": _object("Score", "A score value and its type.", {
        "value": _NUMBER,
        "type": {**_STRING, "enum": ["SCORE_TYPE_UNSPECIFIED", "PROBABILITY"]},
    }),
    "SpanScore": _object("SpanScore", "A score for one span of the text. begin and end are UTF-16 "
                         "code unit offsets in the text as sent; end is exclusive.", {
        "begin": _INTEGER, "end": _INTEGER, "score": _ref("Score"),
    }),
    "AttributeScores": _object("AttributeScores", "The scores of one attribute.", {
        "summaryScore": _ref("Score"),
        "spanScores": {"type": "array", "items": _ref("SpanScore")},
    }),
    "AnalyzeCommentResponse": _object("AnalyzeCommentResponse", "The comment analysis response message.", {
        "attributeScores": _map_of("AttributeScores", "Scores by requested attribute."),
        "languages": _LANGUAGES,
        "detectedLanguages": _LANGUAGES,
        "clientToken": _STRING,
    }),
    "SuggestCommentScoreRequest": _object("SuggestCommentScoreRequest", "A human's label for a comment.", {
        "comment": _ref("TextEntry"),
        "context": _ref("Context"),
        "attributeScores": _map_of("AttributeScores", "summaryScore.value 0 or 1 per attribute."),
        "languages": _LANGUAGES,
        "clientToken": _STRING,
        "sessionId": _STRING,
        "communityId": _STRING,
        "doNotStore": _BOOLEAN,
    }),
    "SuggestCommentScoreResponse": _object("SuggestCommentScoreResponse", "The label was stored.", {
        "clientToken": _STRING,
        "detectedLanguages": _LANGUAGES,
        "requestedLanguages": _LANGUAGES,
    }),
}

_QUERY_PARAMETERS = {
    "key": {"type": "string", "location": "query", "description": "API key (or header X-Goog-Api-Key)."},
    "alt": {"type": "string", "location": "query", "default": "json", "enum": ["json"]},
    "prettyPrint": {"type": "boolean", "location": "query", "default": "true"},
    "fields": {"type": "string", "location": "query"},
    "quotaUser": {"type": "string", "location": "query"},
    "$.xgafv": {"type": "string", "location": "query", "enum": ["1", "2"]},
}


def _method(name: str, request: str, response: str, description: str) -> dict[str, Any]:
    return {
        "id": f"commentanalyzer.comments.{name}",
        "path": f"v1alpha1/comments:{name}",
        "flatPath": f"v1alpha1/comments:{name}",
        "httpMethod": "POST",
        "parameters": {},
        "parameterOrder": [],
        "request": _ref(request),
        "response": _ref(response),
        "description": description,
    }


def document(root_url: str) -> dict[str, Any]:
    """The discovery document with `root_url` (ending in '/') as the service's address."""
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "commentanalyzer:v1alpha1",
        "name": "commentanalyzer",
        "version": "v1alpha1",
        "title": "Perspective Comment Analyzer API (compatible, self-hosted)",
        "description": "Scores comments with Detoxify in the shape of Google's Perspective API.",
        "protocol": "rest",
        "rootUrl": root_url,
        "servicePath": "",
        "baseUrl": root_url,
        "batchPath": "batch",
        "parameters": _QUERY_PARAMETERS,
        "schemas": SCHEMAS,
        "resources": {"comments": {"methods": {
            "analyze": _method("analyze", "AnalyzeCommentRequest", "AnalyzeCommentResponse",
                               "Analyzes the provided text and returns scores for requested attributes."),
            "suggestscore": _method("suggestscore", "SuggestCommentScoreRequest", "SuggestCommentScoreResponse",
                                    "Stores a human's label for the text."),
        }}},
    }
