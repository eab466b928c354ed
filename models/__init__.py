"""Tortoise models, one module per aggregate. Fields, constraints and indexes; no rules."""

from models.attachment import Attachment, AttachmentKind
from models.call import Call, CallKind, CallParticipant, CallStatus, ParticipantState
from models.chat import Chat, ChatType
from models.membership import MemberRole, Membership
from models.message import Message, MessageHide, MessageType, Visibility
from models.poll import Poll, PollOption, PollVote
from models.reaction import Reaction
from models.report import AuditEntry, Report, ReportStatus
from models.session import RefreshToken, Session
from models.user import AccountStatus, Role, User
from models.verification import Verification

__all__ = [
    "AccountStatus",
    "Attachment",
    "AttachmentKind",
    "AuditEntry",
    "Call",
    "CallKind",
    "CallParticipant",
    "CallStatus",
    "Chat",
    "ChatType",
    "MemberRole",
    "Membership",
    "Message",
    "MessageHide",
    "MessageType",
    "ParticipantState",
    "Poll",
    "PollOption",
    "PollVote",
    "Reaction",
    "RefreshToken",
    "Report",
    "ReportStatus",
    "Role",
    "Session",
    "User",
    "Verification",
    "Visibility",
]
