"""Messages as a given viewer sees them, in a fixed number of queries per page."""

from __future__ import annotations

import uuid
from collections import defaultdict

from handlers.poll_view import polls_of_messages
from handlers.schemas.messages import AttachmentOut, MessageOut, ReactionSummary
from infra import signed_urls
from models import Attachment, Message, MessageType, Reaction, Role, User, Visibility


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
    """The attachment with freshly signed, expiring URLs (only ever shown to allowed viewers)."""
    if attachment is None:
        return None
    urls = signed_urls.signer()
    thumbnail = attachment.thumbnail_key is not None
    return AttachmentOut.model_validate(attachment).model_copy(
        update={
            "url": urls.url(attachment.id, "file"),
            "thumbnail_url": urls.url(attachment.id, "thumbnail") if thumbnail else None,
        }
    )


def _visible_to(message: Message, viewer: User) -> bool:
    return message.visibility == Visibility.VISIBLE or viewer.role == Role.ADMIN


async def present_messages(
    messages: list[Message], viewer: User, *, new: bool = False
) -> list[MessageOut]:
    """Messages (with `attachment` fetched) as `viewer` sees them.

    Hidden messages reach non-admins as placeholders: no content, attachment, sticker or poll;
    a deleted poll message is a tombstone without its poll. `new`: just inserted, so there
    are no reactions to look up.
    """
    reactions = await reactions_for([m.id for m in messages]) if messages and not new else {}
    with_polls = [m.id for m in messages if m.type == MessageType.POLL and m.deleted_at is None]
    polls = await polls_of_messages(with_polls, viewer.id) if with_polls else {}
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
                poll=polls.get(message.id) if shown else None,
                encrypted=message.encrypted,
                visibility=message.visibility.value,
                edited_at=message.edited_at,
                deleted_at=message.deleted_at,
                created_at=message.created_at,
            )
        )
    return out


async def present_message(message: Message, viewer: User, *, new: bool = False) -> MessageOut:
    return (await present_messages([message], viewer, new=new))[0]
