"""Read and delivered receipts. Positions only move forward; read implies delivered."""

from __future__ import annotations

from handlers.access import require_member
from handlers.context import Actor, Ctx
from handlers.errors import BadRequest
from handlers.notify import chat_room
from handlers.schemas.common import EmptyOut
from handlers.schemas.receipts import ReadOut, ReceiptIn, ReceiptOut
from handlers.unread import unread_count
from models import Membership


def _check_seq(cmd: ReceiptIn, last_seq: int) -> None:
    if cmd.seq > last_seq:
        raise BadRequest(
            f"seq {cmd.seq} is beyond the chat's last message ({last_seq})",
            {"fields": {"seq": f"at most {last_seq}"}},
        )


async def mark_read(ctx: Ctx, actor: Actor, cmd: ReceiptIn) -> ReadOut:
    membership = await require_member(cmd.chat_id, actor.user_id)
    _check_seq(cmd, membership.chat.last_seq)
    moved = await Membership.filter(id=membership.id, last_read_seq__lt=cmd.seq).update(
        last_read_seq=cmd.seq
    )
    await Membership.filter(id=membership.id, last_delivered_seq__lt=cmd.seq).update(
        last_delivered_seq=cmd.seq
    )
    if moved:
        receipt = ReceiptOut(chat_id=cmd.chat_id, user_id=actor.user_id, seq=cmd.seq, kind="read")
        await ctx.notify.emit("receipt", receipt, chat_room(cmd.chat_id))
    position = max(cmd.seq, membership.last_read_seq)
    unread = await unread_count(actor.user_id, cmd.chat_id)
    return ReadOut(chat_id=cmd.chat_id, seq=position, unread_count=unread)


async def mark_delivered(ctx: Ctx, actor: Actor, cmd: ReceiptIn) -> EmptyOut:
    membership = await require_member(cmd.chat_id, actor.user_id)
    _check_seq(cmd, membership.chat.last_seq)
    moved = await Membership.filter(id=membership.id, last_delivered_seq__lt=cmd.seq).update(
        last_delivered_seq=cmd.seq
    )
    if moved:
        receipt = ReceiptOut(
            chat_id=cmd.chat_id, user_id=actor.user_id, seq=cmd.seq, kind="delivered"
        )
        await ctx.notify.emit("receipt", receipt, chat_room(cmd.chat_id))
    return EmptyOut()
