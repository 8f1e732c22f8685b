"""Coral's external moderation request and answer, as Pydantic models (validation and OpenAPI from one source)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from .schemas import MAX_ID, CommentHtml, IncomingComment, Identifier, _Request, validate_json

ACTIONS = ("NEW", "EDIT")
Text = Annotated[str, StringConstraints(max_length=MAX_ID)]


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


class CoralComment(_Request):
    # Coral sends no id in this phase; when one is present, an EDIT becomes a revision of it.
    id: Identifier | None = None
    body: CommentHtml
    parentID: Identifier | None = None


class CoralAuthor(_Request):
    id: Identifier
    role: Text | None = None


class CoralStory(_Request):
    id: Identifier
    # Coral stories normally have http(s) URLs; anything else is dropped rather than refused.
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CoralRef(_Request):
    id: Text | None = None


class CoralPhaseRequest(_Request):
    """What Coral's external moderation phase POSTs for a NEW or EDITed comment."""

    model_config = ConfigDict(title="CoralRequest")

    action: Literal[ACTIONS]  # type: ignore[valid-type]
    comment: CoralComment
    author: CoralAuthor
    story: CoralStory
    site: CoralRef | None = None
    tenantID: Text | None = None
    tenantDomain: Text | None = None
    # Older Coral releases send {tenant: {id, domain}} instead of tenantID/tenantDomain.
    tenant: CoralRef | None = None

    def checked(self) -> CoralRequest:
        url = self.story.url
        return CoralRequest(
            action=self.action, body=self.comment.body, comment_id=self.comment.id,
            parent_id=self.comment.parentID, author_id=self.author.id, story_id=self.story.id,
            story_url=url if url and url.startswith(("http://", "https://")) else None,
            coral_site_id=self.site.id if self.site else None,
            tenant_id=self.tenantID or (self.tenant.id if self.tenant else None),
        )


def parse_coral(body: bytes) -> CoralRequest:
    """Check Coral's raw request body; raise MalformedJSON, or ValidationFailed listing every failing field."""
    return validate_json(CoralPhaseRequest, body).checked()


# -- the answer ---------------------------------------------------------------------------------------
class CoralAction(BaseModel):
    actionType: Literal["FLAG"]
    reason: str


class CoralRejectionReason(BaseModel):
    code: Literal["OFFENSIVE", "ABUSIVE", "SPAM", "BANNED_WORD", "AD", "ILLEGAL_CONTENT",
                  "HARASSMENT_BULLYING", "MISINFORMATION", "OTHER"]


class CoralModerationAction(BaseModel):
    rejectionReason: CoralRejectionReason


class CoralAnswer(BaseModel):
    """Coral's answer: what to do with the comment (always 200: Coral ignores anything else)."""

    status: Literal["APPROVED", "REJECTED", "SYSTEM_WITHHELD", "NONE"]
    actions: list[CoralAction] | None = None
    moderationAction: CoralModerationAction | None = None
    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})
