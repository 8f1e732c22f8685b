"""The data model: one module per entity."""
from .api_key import ApiKey
from .audit import AuditEntry
from .comment import STATUSES, Comment
from .human_label import HumanLabel
from .outbox import OutboxMessage
from .policy import PolicyVersion
from .rescore_job import JOB_STATES, RescoreJob
from .revision import CommentRevision
from .scored_text import ScoredText
from .site import Site
from .types import utcnow
from .user import ROLES, User, user_sites

__all__ = [
    "ApiKey", "HumanLabel", "ScoredText",
    "AuditEntry", "Comment", "CommentRevision", "JOB_STATES", "OutboxMessage", "PolicyVersion", "ROLES", "RescoreJob",
    "STATUSES", "Site", "User", "user_sites", "utcnow",
]
