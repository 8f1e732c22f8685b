"""The data model: one module per entity."""
from .audit import AuditEntry
from .comment import STATUSES, Comment
from .delivery import Delivery
from .outbox import OutboxMessage
from .policy import PolicyVersion
from .rescore_job import JOB_STATES, RescoreJob
from .revision import CommentRevision
from .site import Site
from .types import utcnow
from .user import ROLES, User, user_sites

__all__ = [
    "AuditEntry", "Comment", "CommentRevision", "Delivery", "JOB_STATES", "OutboxMessage", "PolicyVersion", "ROLES", "RescoreJob",
    "STATUSES", "Site", "User", "user_sites", "utcnow",
]
