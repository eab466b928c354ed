"""Call payloads in and out (API.md §4 "Calls")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import SerializerFunctionWrapHandler, model_serializer

from handlers.schemas.common import Id, In, Out

SIGNAL_MAX_BYTES = 65536
"""Largest `call:signal` data (SDP or ICE candidate), measured JSON-encoded."""

CallKindName = Literal["video", "audio"]
EndReason = Literal["hangup", "rejected", "no_answer", "left", "server_restart"]
"""Why a call ended: a participant hung up, every invitee rejected, nobody answered in time,
fewer than two participants remained, or a restarted server found nobody connected."""


class StartCallIn(In):
    chat_id: Id
    kind: CallKindName


class CallIdIn(In):
    call_id: Id


class SignalIn(In):
    call_id: Id
    to_user_id: Id
    data: dict[str, Any] | str


class CallOut(Out):
    id: Id
    chat_id: Id
    room_name: str
    kind: CallKindName
    initiator_id: Id | None
    participant_ids: list[Id]
    status: Literal["ringing", "active", "ended", "missed", "rejected"]
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None


class TwilioOut(Out):
    token: str
    room: str


class IceServerOut(Out):
    """One RTCIceServer, usable as is in `new RTCPeerConnection({iceServers})`."""

    urls: str


class CallJoinOut(Out):
    """What `call:start` and `call:accept` answer; `twilio` is absent without Twilio Video."""

    call: CallOut
    twilio: TwilioOut | None = None
    ice_servers: list[IceServerOut]

    @model_serializer(mode="wrap")
    def _omit_absent_twilio(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if data.get("twilio") is None:
            data.pop("twilio", None)
        return data


class CallEnvelope(Out):
    call: CallOut


class CallUserEventOut(Out):
    """`call:accepted` / `call:rejected`: who did it."""

    call: CallOut
    user_id: Id


class CallEndedOut(Out):
    call: CallOut
    reason: EndReason


class SignalOut(Out):
    call_id: Id
    from_user_id: Id
    data: dict[str, Any] | str


class TokenOut(Out):
    twilio: TwilioOut
