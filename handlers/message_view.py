"""Messages as a given viewer sees them, in a fixed number of queries per page."""

from __future__ import annotations

import uuid
from collections import defaultdict

from handlers.schemas.messages import AttachmentOut, MessageOut, ReactionSummary
from models import Attachment, Message, Reaction, Role, User, Visibility


async def reactions_for(
    message_ids: list[uuid.UUID],
) -> dict[uuid.UUID, dict[str, ReactionSummary]]:
    """Aggregated reactions of many messages in one query, emojis in first-use order."""
    grouped: dict[uuid.UUID, dict[str, list[uuid.UUID]]] = defaultdict(dict)
    rows = (
        await Reaction.filter(message_id__in=message_ids)
        .order_by("created_at", "id")
        .values_list("message_id", "emoji", "user_id")
    )
    for message_id, emoji, user_id in rows:
        grouped[message_id].setdefault(emoji, []).append(user_id)
    return {
        message_id: {
            emoji: ReactionSummary(count=len(users), user_ids=users)
            for emoji, users in emojis.items()
        }
        for message_id, emojis in grouped.items()
    }


def attachment_out(attachment: Attachment | None) -> AttachmentOut | None:
    if attachment is None:
        return None
    return AttachmentOut.model_validate(attachment)


def _visible_to(message: Message, viewer: User) -> bool:
    return message.visibility == Visibility.VISIBLE or viewer.role == Role.ADMIN


async def present_messages(messages: list[Message], viewer: User) -> list[MessageOut]:
    """Messages (with `attachment` fetched) as `viewer` sees them.

    Hidden messages reach non-admins as placeholders: no content, attachment or sticker.
    """
    reactions = await reactions_for([m.id for m in messages]) if messages else {}
    out = []
    for message in messages:
        shown = _visible_to(message, viewer)
        out.append(
            MessageOut(
                id=message.id,
                chat_id=message.chat_id,
                seq=message.seq,
                change=message.change,
                client_id=message.client_id,
                sender_id=message.sender_id,
                type=message.type.value,
                content=message.content if shown else None,
                attachment=attachment_out(message.attachment) if shown else None,
                sticker=message.sticker if shown else None,
                meta=message.meta,
                reply_to_id=message.reply_to_id,
                reactions=reactions.get(message.id, {}),
                encrypted=message.encrypted,
                visibility=message.visibility.value,
                edited_at=message.edited_at,
                deleted_at=message.deleted_at,
                created_at=message.created_at,
            )
        )
    return out


async def present_message(message: Message, viewer: User) -> MessageOut:
    return (await present_messages([message], viewer))[0]
