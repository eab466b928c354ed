"""Group membership: add, remove, leave, roles. Sockets move with the membership, on every node.

Rules:
- add and remove: owner or admin; the owner cannot be removed; only the owner removes admins;
  removing oneself is `chat:leave`. Adding someone who is already a member is a no-op.
- set_role: owner only, to `admin` or `member`; the owner's own role never changes this way.
- leave: a DM cannot be left (`bad_request`; hide it instead). An owner who leaves hands the
  group to the longest-standing admin, else the longest-standing member; the last member
  leaving leaves the group empty (it is kept, with its messages).
"""

from __future__ import annotations

import uuid

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from handlers.access import require_active, require_member, require_role
from handlers.chat_view import chat_out, members_of
from handlers.chats import check_group_size, require_group, require_users
from handlers.context import Actor, Ctx
from handlers.errors import BadRequest, Forbidden, NotFound
from handlers.notify import chat_room, user_room
from handlers.schemas.chats import AddMembersIn, ChatEnvelope, ChatIdIn, MemberIn, SetRoleIn
from models import Chat, ChatType, MemberRole, Membership

MEMBER_NOT_FOUND = "Member not found"


async def add_members(ctx: Ctx, actor: Actor, cmd: AddMembersIn) -> ChatEnvelope:
    """Add users to a group; their connected sockets join the chat room before the ack."""
    require_active(actor.user)
    membership = await require_member(cmd.chat_id, actor.user_id)
    require_group(membership.chat)
    require_role(membership, MemberRole.OWNER, MemberRole.ADMIN)
    wanted = list(dict.fromkeys(cmd.user_ids))
    await require_users(wanted)
    async with in_transaction() as conn:
        await _lock(cmd.chat_id, conn)
        current = set(
            await Membership.filter(chat_id=cmd.chat_id)
            .using_db(conn)
            .values_list("user_id", flat=True)
        )
        added = [user_id for user_id in wanted if user_id not in current]
        check_group_size(ctx, len(current) + len(added), "user_ids")
        await Membership.bulk_create(
            [Membership(chat_id=cmd.chat_id, user_id=user_id) for user_id in added],
            using_db=conn,
        )
    await ctx.notify.join_chat(added, cmd.chat_id)
    return await _announce_update(ctx, membership, [user_room(u) for u in added])


async def remove_member(ctx: Ctx, actor: Actor, cmd: MemberIn) -> ChatEnvelope:
    """Remove a member; their sockets leave the chat room, then they get `chat:updated`."""
    membership = await require_member(cmd.chat_id, actor.user_id)
    require_group(membership.chat)
    require_role(membership, MemberRole.OWNER, MemberRole.ADMIN)
    if cmd.user_id == actor.user_id:
        raise BadRequest("To remove yourself, use chat:leave", {"fields": {"user_id": "is you"}})
    target = await _member(cmd.chat_id, cmd.user_id)
    if target.role == MemberRole.OWNER:
        raise Forbidden("The owner cannot be removed")
    if target.role == MemberRole.ADMIN and membership.role != MemberRole.OWNER:
        raise Forbidden("Only the owner can remove an admin")
    await Membership.filter(id=target.id).delete()
    await ctx.notify.leave_chat(cmd.user_id, cmd.chat_id)
    return await _announce_update(ctx, membership, [user_room(cmd.user_id)])


async def leave_chat(ctx: Ctx, actor: Actor, cmd: ChatIdIn) -> ChatEnvelope:
    """Leave a group; an owner's ownership passes on. The answer is the chat without you."""
    membership = await require_member(cmd.chat_id, actor.user_id)
    if membership.chat.type == ChatType.DM:
        raise BadRequest("A DM cannot be left; hide it with chat:hide instead")
    async with in_transaction() as conn:
        await _lock(cmd.chat_id, conn)
        await Membership.filter(id=membership.id).using_db(conn).delete()
        if membership.role == MemberRole.OWNER:
            await _pass_ownership(cmd.chat_id, conn)
    await ctx.notify.leave_chat(actor.user_id, cmd.chat_id)
    out = ChatEnvelope(chat=chat_out(membership.chat, await members_of(ctx, cmd.chat_id)))
    await ctx.notify.emit("chat:updated", out, [chat_room(cmd.chat_id), user_room(actor.user_id)])
    return out


async def set_role(ctx: Ctx, actor: Actor, cmd: SetRoleIn) -> ChatEnvelope:
    """Make a member an admin or a plain member again (owner only)."""
    membership = await require_member(cmd.chat_id, actor.user_id)
    require_group(membership.chat)
    require_role(membership, MemberRole.OWNER)
    target = await _member(cmd.chat_id, cmd.user_id)
    if target.role == MemberRole.OWNER:
        raise BadRequest("The owner's role cannot be changed", {"fields": {"user_id": "owner"}})
    await Membership.filter(id=target.id).update(role=MemberRole(cmd.role))
    return await _announce_update(ctx, membership)


async def _member(chat_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    target = await Membership.get_or_none(chat_id=chat_id, user_id=user_id)
    if target is None:
        raise NotFound(MEMBER_NOT_FOUND)
    return target


async def _lock(chat_id: uuid.UUID, conn: BaseDBAsyncClient) -> None:
    """Serialise membership changes of one chat (row lock on PostgreSQL)."""
    await Chat.filter(id=chat_id).select_for_update().using_db(conn).get()


async def _pass_ownership(chat_id: uuid.UUID, conn: BaseDBAsyncClient) -> None:
    """The longest-standing admin, else the longest-standing member, becomes the owner."""
    remaining = Membership.filter(chat_id=chat_id).using_db(conn).order_by("created_at", "id")
    successor = await remaining.filter(role=MemberRole.ADMIN).first() or await remaining.first()
    if successor is not None:
        await Membership.filter(id=successor.id).using_db(conn).update(role=MemberRole.OWNER)


async def _announce_update(
    ctx: Ctx, membership: Membership, extra_rooms: list[str] | None = None
) -> ChatEnvelope:
    """`chat:updated` (with members) to the chat room and `extra_rooms`, in one emit."""
    chat = membership.chat
    members = await members_of(ctx, chat.id)
    rooms = [chat_room(chat.id), *(extra_rooms or [])]
    await ctx.notify.emit("chat:updated", ChatEnvelope(chat=chat_out(chat, members)), rooms)
    return ChatEnvelope(chat=chat_out(chat, members, membership))
