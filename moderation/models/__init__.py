"""The data model: one module per entity."""
from .api_key import ApiKey
from .assessment import StoredAssessment
from .audit import AuditEntry
from .comment import STATUSES, Comment
from .delivery import Delivery
from .human_label import HumanLabel
from .lexicon_term import LexiconTerm
from .outbox import OutboxMessage
from .policy import PolicyVersion
from .rescore_job import JOB_STATES, RescoreJob
from .revision import CommentRevision
from .scored_text import ScoredText
from .site import Site
from .types import utcnow
from .user import ROLES, User, user_sites

__all__ = [
    "ApiKey", "AuditEntry", "Comment", "CommentRevision", "Delivery", "HumanLabel", "JOB_STATES", "LexiconTerm",
    "OutboxMessage", "PolicyVersion", "ROLES", "RescoreJob", "STATUSES", "ScoredText", "Site", "StoredAssessment", "User",
    "user_sites", "utcnow",
]
