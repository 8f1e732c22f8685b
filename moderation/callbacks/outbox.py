"""Queueing callbacks: written in the decision's own transaction, delivered by the worker."""
from __future__ import annotations

import secrets

from ..comments import payload
from ..extensions import db
from ..models import Comment, OutboxMessage, Site


def enqueue_comment_moderated(site: Site, comment: Comment) -> OutboxMessage | None:
    """Queue a `comment.moderated` callback, if the site has a callback URL."""
    if not site.callback_url:
        return None
    message = OutboxMessage(
        site_id=site.id, comment_id=comment.id, event_type="comment.moderated",
        webhook_id="msg_" + secrets.token_hex(16),
        payload={"type": "comment.moderated", "data": payload(comment)},
    )
    db.session.add(message)
    return message
