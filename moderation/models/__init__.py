"""The data model: one module per entity."""
from .assessment import StoredAssessment
from .audit import AuditEntry
from .comment import STATUSES, Comment
from .lexicon_term import LexiconTerm
from .outbox import OutboxMessage
from .policy import PolicyVersion
from .rescore_job import JOB_STATES, RescoreJob
from .revision import CommentRevision
from .site import Site
from .types import utcnow
from .user import ROLES, User, user_sites

__all__ = [
    "AuditEntry", "Comment", "CommentRevision", "JOB_STATES", "LexiconTerm", "OutboxMessage", "PolicyVersion", "ROLES", "RescoreJob",
    "STATUSES", "Site", "StoredAssessment", "User", "user_sites", "utcnow",
]
