"""Chats: create (DM or group), list, get, update, and the caller's archive/hide flags.

Membership changes (add, remove, leave, roles) live in handlers/chat_members.py.
Rules decided here:
- a DM needs another, existing user (oneself: `bad_request`; unknown: `not_found`) and is
  unique per pair, also under concurrent creation (`Chat.dm_key` is unique);
- a group's `member_ids` are deduplicated (the creator is added as owner anyway); an unknown
  id answers `not_found` with `details.user_ids`; more than GROUP_MAX_MEMBERS: `bad_request`;
- a DM cannot be renamed or have members added, removed or re-roled: `bad_request`.
"""

from __future__ import annotations

import uuid

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from handlers.access import require_active, require_member, require_role
from handlers.chat_view import chat_list, chat_out, chat_with_members, members_of
from handlers.context import Actor, Ctx
from handlers.errors import BadRequest, NotFound
from handlers.notify import chat_room, user_room
from handlers.schemas.chats import (
    ArchiveIn,
    ChatEnvelope,
    ChatIdIn,
    ChatListOut,
    CreateChatIn,
    CreateDmIn,
    CreateGroupIn,
    HideIn,
    ListChatsIn,
    UpdateChatIn,
)
from models import Chat, ChatType, MemberRole, Membership, User


def dm_key(first: uuid.UUID, second: uuid.UUID) -> str:
    """The unique key of the DM between two users, whoever starts it."""
    return ":".join(sorted((str(first), str(second))))


def require_group(chat: Chat) -> None:
    if chat.type != ChatType.GROUP:
        raise BadRequest("A DM has no roles or members to manage and cannot be renamed")


def check_group_size(ctx: Ctx, size: int, field: str) -> None:
    limit = ctx.settings.group_max_members
    if size > limit:
        raise BadRequest(
            f"A group has at most {limit} members", {"fields": {field: f"at most {limit} members"}}
        )


async def require_users(user_ids: list[uuid.UUID]) -> None:
    """`not_found` naming the ids of users that do not exist."""
    found = set(await User.filter(id__in=user_ids).values_list("id", flat=True))
    missing = [str(user_id) for user_id in user_ids if user_id not in found]
    if missing:
        raise NotFound("User not found", {"user_ids": missing})


async def create_chat(ctx: Ctx, actor: Actor, cmd: CreateChatIn) -> ChatEnvelope:
    require_active(actor.user)
    if isinstance(cmd.root, CreateDmIn):
        return await _create_dm(ctx, actor, cmd.root)
    return await _create_group(ctx, actor, cmd.root)


async def _create_dm(ctx: Ctx, actor: Actor, cmd: CreateDmIn) -> ChatEnvelope:
    """The DM with that user: the existing one if any (no broadcast), else a new one."""
    if cmd.user_id == actor.user_id:
        raise BadRequest("You cannot start a DM with yourself", {"fields": {"user_id": "is you"}})
    if not await User.exists(id=cmd.user_id):
        raise NotFound("User not found")
    key = dm_key(actor.user_id, cmd.user_id)
    existing = await Chat.get_or_none(dm_key=key)
    if existing is not None:
        return ChatEnvelope(chat=await chat_with_members(ctx, existing.id, actor.user))
    try:
        async with in_transaction() as conn:
            chat = await Chat.create(
                type=ChatType.DM, created_by_id=actor.user_id, dm_key=key, using_db=conn
            )
            await Membership.bulk_create(
                [
                    Membership(chat=chat, user_id=user_id)
                    for user_id in (actor.user_id, cmd.user_id)
                ],
                using_db=conn,
            )
    except IntegrityError:
        existing = await Chat.get(dm_key=key)
        return ChatEnvelope(chat=await chat_with_members(ctx, existing.id, actor.user))
    return await _announce_new(ctx, actor, chat, [actor.user_id, cmd.user_id])


async def _create_group(ctx: Ctx, actor: Actor, cmd: CreateGroupIn) -> ChatEnvelope:
    others = [user_id for user_id in dict.fromkeys(cmd.member_ids) if user_id != actor.user_id]
    check_group_size(ctx, len(others) + 1, "member_ids")
    await require_users(others)
    async with in_transaction() as conn:
        chat = await Chat.create(
            type=ChatType.GROUP,
            name=cmd.name,
            avatar_url=cmd.avatar_url,
            created_by_id=actor.user_id,
            using_db=conn,
        )
        owner = Membership(chat=chat, user_id=actor.user_id, role=MemberRole.OWNER)
        members = [Membership(chat=chat, user_id=user_id) for user_id in others]
        await Membership.bulk_create([owner, *members], using_db=conn)
    return await _announce_new(ctx, actor, chat, [actor.user_id, *others])


async def _announce_new(
    ctx: Ctx, actor: Actor, chat: Chat, member_ids: list[uuid.UUID]
) -> ChatEnvelope:
    """Move the members' sockets into the chat room, then `chat:new` to each member, once."""
    await ctx.notify.join_chat(member_ids, chat.id)
    members = await members_of(ctx, chat.id)
    await ctx.notify.emit(
        "chat:new",
        ChatEnvelope(chat=chat_out(chat, members)),
        [user_room(user_id) for user_id in member_ids],
    )
    viewer = await Membership.get(chat_id=chat.id, user_id=actor.user_id)
    return ChatEnvelope(chat=chat_out(chat, members, viewer))


async def list_chats(ctx: Ctx, actor: Actor, cmd: ListChatsIn) -> ChatListOut:
    return ChatListOut(chats=await chat_list(actor.user, cmd))


async def get_chat(ctx: Ctx, actor: Actor, cmd: ChatIdIn) -> ChatEnvelope:
    membership = await require_member(cmd.chat_id, actor.user_id)
    members = await members_of(ctx, cmd.chat_id)
    return ChatEnvelope(chat=chat_out(membership.chat, members, membership))


async def update_chat(ctx: Ctx, actor: Actor, cmd: UpdateChatIn) -> ChatEnvelope:
    """Rename or re-avatar a group (owner or admin); `chat:updated` to the chat room."""
    membership = await require_member(cmd.chat_id, actor.user_id)
    chat = membership.chat
    require_group(chat)
    require_role(membership, MemberRole.OWNER, MemberRole.ADMIN)
    changes = cmd.model_dump(include=cmd.model_fields_set - {"chat_id"})
    for name, value in changes.items():
        setattr(chat, name, value)
    await chat.save(update_fields=[*changes, "updated_at"])
    members = await members_of(ctx, chat.id)
    await ctx.notify.emit(
        "chat:updated", ChatEnvelope(chat=chat_out(chat, members)), chat_room(chat.id)
    )
    return ChatEnvelope(chat=chat_out(chat, members, membership))


async def archive_chat(ctx: Ctx, actor: Actor, cmd: ArchiveIn) -> ChatEnvelope:
    return await _set_own_flag(ctx, actor, cmd.chat_id, "archived", cmd.archived)


async def hide_chat(ctx: Ctx, actor: Actor, cmd: HideIn) -> ChatEnvelope:
    return await _set_own_flag(ctx, actor, cmd.chat_id, "hidden", cmd.hidden)


async def _set_own_flag(
    ctx: Ctx, actor: Actor, chat_id: uuid.UUID, flag: str, value: bool
) -> ChatEnvelope:
    """Set the caller's own archived/hidden flag; `chat:updated` to their other sockets."""
    membership = await require_member(chat_id, actor.user_id)
    await Membership.filter(id=membership.id).update(**{flag: value})
    setattr(membership, flag, value)
    members = await members_of(ctx, chat_id)
    out = ChatEnvelope(chat=chat_out(membership.chat, members, membership))
    await ctx.notify.emit("chat:updated", out, user_room(actor.user_id), skip_sid=actor.socket_id)
    return out
