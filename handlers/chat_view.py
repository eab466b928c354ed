"""Chats as a viewer sees them: members with presence, and the chat list in fixed queries."""

from __future__ import annotations

import uuid

from tortoise.expressions import F, Q, Subquery
from tortoise.functions import Max

from handlers.context import Ctx
from handlers.message_view import present_messages
from handlers.present import public_user
from handlers.schemas.chats import ChatListItem, ChatOut, ListChatsIn, MemberOut
from handlers.schemas.messages import MessageOut
from handlers.unread import unread_counts
from models import Chat, Membership, Message, MessageHide, User


def chat_out(
    chat: Chat, members: list[MemberOut] | None = None, viewer: Membership | None = None
) -> ChatOut:
    """The contract's `chat`; `viewer` adds the caller's own role, archived and hidden."""
    return ChatOut(
        id=chat.id,
        type=chat.type.value,
        name=chat.name,
        avatar_url=chat.avatar_url,
        created_by=chat.created_by_id,
        created_at=chat.created_at,
        last_seq=chat.last_seq,
        last_change=chat.last_change,
        last_activity_at=chat.last_activity_at,
        members=members,
        role=viewer.role.value if viewer else None,
        archived=viewer.archived if viewer else None,
        hidden=viewer.hidden if viewer else None,
    )


async def members_of(ctx: Ctx, chat_id: uuid.UUID) -> list[MemberOut]:
    """Every member, longest-standing first, with online flags: one query and one state call."""
    memberships = (
        await Membership.filter(chat_id=chat_id).select_related("user").order_by("created_at", "id")
    )
    live = await ctx.state.live_sockets([str(m.user_id) for m in memberships])
    return [
        MemberOut(
            user=public_user(m.user, online=live.get(str(m.user_id), 0) > 0),
            role=m.role.value,
            joined_at=m.created_at,
        )
        for m in memberships
    ]


async def chat_with_members(ctx: Ctx, chat_id: uuid.UUID, viewer: User | None = None) -> ChatOut:
    """The chat as stored now, with its members; `viewer` adds that member's own fields."""
    chat = await Chat.get(id=chat_id)
    members = await members_of(ctx, chat_id)
    membership = None
    if viewer is not None:
        membership = await Membership.get_or_none(chat_id=chat_id, user_id=viewer.id)
    return chat_out(chat, members, membership)


async def chat_list(viewer: User, cmd: ListChatsIn) -> list[ChatListItem]:
    """The viewer's chats, newest activity first, in a fixed number of queries.

    Memberships with their chats (1), unread counts (1, rule in handlers/unread.py), newest
    messages (1), and what message_view needs for them (reactions, polls: one query each).
    Only when the viewer deleted some chat's newest message for themselves, one grouped query
    finds the newest message they still see there and one more loads those.
    """
    query = Membership.filter(user_id=viewer.id).select_related("chat")
    if not cmd.include_archived:
        query = query.filter(archived=False)
    if not cmd.include_hidden:
        query = query.filter(hidden=False)
    memberships = await query.order_by("-chat__last_activity_at", "-chat__created_at")
    chat_ids = [m.chat_id for m in memberships]
    unread = await unread_counts(viewer.id, chat_ids)
    last = await _last_messages(viewer, [m.chat for m in memberships])
    return [
        ChatListItem(
            **chat_out(m.chat, viewer=m).model_dump(exclude={"members"}),
            last_message=last.get(m.chat_id),
            unread_count=unread.get(m.chat_id, 0),
        )
        for m in memberships
    ]


async def _last_messages(viewer: User, chats: list[Chat]) -> dict[uuid.UUID, MessageOut]:
    """Per chat, the newest message the viewer has not deleted for themselves."""
    with_messages = [chat.id for chat in chats if chat.last_seq > 0]
    if not with_messages:
        return {}
    newest = (
        await Message.filter(
            chat_id__in=with_messages, chat__last_seq__gt=0, seq=F("chat__last_seq")
        )
        .exclude(id__in=_hidden_by(viewer))
        .select_related("attachment")
    )
    found = {m.chat_id for m in newest}
    newest += await _newest_not_hidden(viewer, [c for c in with_messages if c not in found])
    return {m.chat_id: m for m in await present_messages(newest, viewer)}


def _hidden_by(viewer: User) -> Subquery:
    """Ids of the messages the viewer deleted for themselves."""
    return Subquery(MessageHide.filter(user_id=viewer.id).values("message_id"))


async def _newest_not_hidden(viewer: User, chat_ids: list[uuid.UUID]) -> list[Message]:
    """The newest message the viewer still sees in each chat (two queries for any number)."""
    if not chat_ids:
        return []
    rows = (
        await Message.filter(chat_id__in=chat_ids)
        .exclude(id__in=_hidden_by(viewer))
        .group_by("chat_id")
        .annotate(newest=Max("seq"))
        .values_list("chat_id", "newest")
    )
    if not rows:
        return []
    wanted = Q(*(Q(chat_id=chat_id, seq=seq) for chat_id, seq in rows), join_type="OR")
    return await Message.filter(wanted).select_related("attachment")
