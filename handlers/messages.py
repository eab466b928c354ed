"""Messages: send, history, edit, delete, report."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from handlers.access import is_chat_admin, require_active, require_member
from handlers.context import Actor, Ctx
from handlers.errors import BadRequest, Conflict, Forbidden, NotFound, RateLimited
from handlers.message_view import present_message, present_messages
from handlers.notify import chat_room, user_room
from handlers.ordering import append_message, chat_order_lock, next_change
from handlers.schemas.messages import (
    DeletedOut,
    DeleteMessageIn,
    EditMessageIn,
    HistoryIn,
    HistoryOut,
    MessageEnvelope,
    MessageIdOut,
    ReportMessageIn,
    ReportOut,
    SendMessageIn,
)
from models import (
    Attachment,
    AttachmentKind,
    Membership,
    Message,
    MessageHide,
    MessageType,
    Reaction,
    Report,
)

MESSAGE_NOT_FOUND = "Message not found"
ATTACHMENT_KINDS: dict[str, set[AttachmentKind]] = {
    "image": {AttachmentKind.IMAGE},
    "voice": {AttachmentKind.AUDIO},
    "video": {AttachmentKind.VIDEO},
    "file": set(AttachmentKind),
}


async def send_message(ctx: Ctx, actor: Actor, cmd: SendMessageIn) -> MessageEnvelope:
    """Commit a message with the chat's next seq; re-sending a client_id returns the original."""
    require_active(actor.user)
    await require_member(cmd.chat_id, actor.user_id)
    kind = MessageType(cmd.type)
    existing = await posted_before(actor, cmd.chat_id, cmd.client_id, kind)
    if existing is not None:
        return MessageEnvelope(message=await present_message(existing, actor.user))
    _check_content(ctx, cmd)
    await take_send_token(ctx, actor)
    attachment = await _usable_attachment(actor, cmd)
    if cmd.reply_to_id and not await Message.exists(id=cmd.reply_to_id, chat_id=cmd.chat_id):
        raise BadRequest(
            "reply_to_id is not a message of this chat", {"fields": {"reply_to_id": "unknown"}}
        )
    insert = partial(_insert_message, actor, cmd, attachment)
    return await post_message(ctx, actor, cmd.chat_id, cmd.client_id, kind, insert)


async def post_message(
    ctx: Ctx,
    actor: Actor,
    chat_id: uuid.UUID,
    client_id: str,
    kind: MessageType,
    insert: Callable[[], Awaitable[Message]],
) -> MessageEnvelope:
    """Insert (one transaction), then `message:new`, under the chat's order lock.

    A concurrent resend of the same client_id loses the unique-constraint race and gets the
    original back, with nothing broadcast twice.
    """
    async with chat_order_lock(ctx, chat_id):
        try:
            message = await insert()
        except IntegrityError:
            original = await posted_before(actor, chat_id, client_id, kind)
            if original is None:
                raise
            return MessageEnvelope(message=await present_message(original, actor.user))
        out = MessageEnvelope(message=await present_message(message, actor.user, new=True))
        await ctx.notify.emit("message:new", out, chat_room(chat_id))
    return out


async def _insert_message(
    actor: Actor, cmd: SendMessageIn, attachment: Attachment | None
) -> Message:
    async with in_transaction() as conn:
        message = await append_message(
            cmd.chat_id,
            conn,
            client_id=cmd.client_id,
            sender_id=actor.user_id,
            type=MessageType(cmd.type),
            content=cmd.content,
            attachment=attachment,
            sticker=cmd.sticker.model_dump(exclude_none=True) if cmd.sticker else None,
            reply_to_id=cmd.reply_to_id,
            encrypted=cmd.encrypted,
        )
        if attachment is not None and attachment.posted_at is None:
            await (
                Attachment.filter(id=attachment.id)
                .using_db(conn)
                .update(posted_at=message.created_at)
            )
    return message


async def posted_before(
    actor: Actor, chat_id: uuid.UUID, client_id: str, kind: MessageType
) -> Message | None:
    """The caller's message with this client_id (sends are idempotent), or None; `conflict`
    when the client_id was used for another chat or another kind of message."""
    message = await Message.get_or_none(
        sender_id=actor.user_id, client_id=client_id
    ).select_related("attachment")
    if message is not None and (message.chat_id != chat_id or message.type != kind):
        raise Conflict("client_id was already used for another message")
    return message


def _check_content(ctx: Ctx, cmd: SendMessageIn) -> None:
    limit = ctx.settings.max_message_chars
    if not cmd.encrypted and cmd.content is not None and len(cmd.content) > limit:
        raise BadRequest(
            f"content is longer than {limit} characters",
            {"fields": {"content": f"at most {limit} characters"}},
        )


async def take_send_token(ctx: Ctx, actor: Actor) -> None:
    rate, burst = ctx.settings.message_rate_per_second, ctx.settings.message_rate_burst
    if rate <= 0:
        return
    wait = await ctx.state.take_token(f"send:{actor.user_id}", rate, burst)
    if wait > 0:
        raise RateLimited(wait, "Sending too fast")


async def _usable_attachment(actor: Actor, cmd: SendMessageIn) -> Attachment | None:
    """The sender's own upload, of a kind that fits the message type."""
    if cmd.attachment_id is None:
        return None
    attachment = await Attachment.get_or_none(id=cmd.attachment_id, uploader_id=actor.user_id)
    if attachment is None:
        raise NotFound("Attachment not found")
    if attachment.kind not in ATTACHMENT_KINDS[cmd.type]:
        raise BadRequest(
            f"a {attachment.kind.value} attachment cannot be sent as {cmd.type}",
            {"fields": {"attachment_id": "kind does not fit type"}},
        )
    return attachment


async def message_history(ctx: Ctx, actor: Actor, cmd: HistoryIn) -> HistoryOut:
    """A page of the chat ascending by seq; without bounds, the newest `limit`."""
    await require_member(cmd.chat_id, actor.user_id)
    hidden = MessageHide.filter(user_id=actor.user_id, message__chat_id=cmd.chat_id)
    query = Message.filter(chat_id=cmd.chat_id).exclude(
        id__in=Subquery(hidden.values("message_id"))
    )
    if cmd.after_seq is not None:
        query = query.filter(seq__gt=cmd.after_seq).order_by("seq")
    else:
        if cmd.before_seq is not None:
            query = query.filter(seq__lt=cmd.before_seq)
        query = query.order_by("-seq")
    page = await query.limit(cmd.limit + 1).select_related("attachment")
    has_more = len(page) > cmd.limit
    page = sorted(page[: cmd.limit], key=lambda m: m.seq)
    return HistoryOut(messages=await present_messages(page, actor.user), has_more=has_more)


async def visible_message(message_id: uuid.UUID, actor: Actor) -> tuple[Message, Membership]:
    """A message in a chat the caller belongs to (and did not delete for themselves)."""
    message = await Message.get_or_none(id=message_id).select_related("attachment")
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    membership = await Membership.get_or_none(chat_id=message.chat_id, user_id=actor.user_id)
    hidden = await MessageHide.exists(message_id=message_id, user_id=actor.user_id)
    if membership is None or hidden:
        raise NotFound(MESSAGE_NOT_FOUND)
    return message, membership


async def edit_message(ctx: Ctx, actor: Actor, cmd: EditMessageIn) -> MessageEnvelope:
    message, _ = await visible_message(cmd.message_id, actor)
    if message.sender_id != actor.user_id:
        raise Forbidden("Only the sender can edit a message")
    if message.deleted_at is not None:
        raise Conflict("The message was deleted")
    if message.type != MessageType.TEXT:
        raise BadRequest("Only text messages can be edited")
    limit = ctx.settings.max_message_chars
    if not message.encrypted and len(cmd.content) > limit:
        raise BadRequest(f"content is longer than {limit} characters")
    async with in_transaction() as conn:
        message.change = await next_change(message.chat_id, conn)
        message.content = cmd.content
        message.edited_at = datetime.now(UTC)
        await message.save(using_db=conn, update_fields=["change", "content", "edited_at"])
    out = MessageEnvelope(message=await present_message(message, actor.user))
    await ctx.notify.emit("message:updated", out, chat_room(message.chat_id))
    return out


async def delete_message(ctx: Ctx, actor: Actor, cmd: DeleteMessageIn) -> MessageIdOut:
    """`everyone`: sender or group admin; content wiped, a tombstone stays. `me`: hidden."""
    message, membership = await visible_message(cmd.message_id, actor)
    deleted = DeletedOut(message_id=message.id, chat_id=message.chat_id)
    if cmd.scope == "me":
        await MessageHide.get_or_create(message_id=message.id, user_id=actor.user_id)
        await ctx.notify.emit("message:deleted", deleted, user_room(actor.user_id))
        return MessageIdOut(message_id=message.id)
    if message.sender_id != actor.user_id and not is_chat_admin(membership):
        raise Forbidden("Only the sender or a group admin can delete for everyone")
    if message.deleted_at is None:
        async with in_transaction() as conn:
            message.change = await next_change(message.chat_id, conn)
            message.deleted_at = datetime.now(UTC)
            message.content = message.sticker = message.attachment = None
            await message.save(
                using_db=conn,
                update_fields=["change", "deleted_at", "content", "sticker", "attachment_id"],
            )
            await Reaction.filter(message_id=message.id).using_db(conn).delete()
        await ctx.notify.emit("message:deleted", deleted, chat_room(message.chat_id))
    return MessageIdOut(message_id=message.id)


async def report_message(ctx: Ctx, actor: Actor, cmd: ReportMessageIn) -> ReportOut:
    """File a report for the moderators; reporting the same message again returns it."""
    message, _ = await visible_message(cmd.message_id, actor)
    if message.sender_id == actor.user_id:
        raise BadRequest("You cannot report your own message")
    report, _ = await Report.get_or_create(
        message_id=message.id, reporter_id=actor.user_id, defaults={"reason": cmd.reason}
    )
    return ReportOut(report_id=report.id)
