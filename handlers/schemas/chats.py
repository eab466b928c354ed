"""Chat payloads in and out.

`ChatOut` is the contract's `chat`. Optional parts are left out of the JSON, not sent as null:
`members` (chat:get, chat:create, chat:new, chat:updated and the membership events carry it;
chat:list does not) and the viewer's own `role`, `archived`, `hidden` (in answers to the
caller and in broadcasts to the caller's own sockets, never in broadcasts to a chat room).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    RootModel,
    SerializerFunctionWrapHandler,
    StrictBool,
    StringConstraints,
    model_serializer,
    model_validator,
)

from handlers.schemas.common import Id, In, Out, Url
from handlers.schemas.messages import MessageOut
from handlers.schemas.users import UserPublic

GroupName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Role = Literal["owner", "admin", "member"]


class CreateDmIn(In):
    type: Literal["dm"]
    user_id: Id


class CreateGroupIn(In):
    type: Literal["group"]
    name: GroupName
    member_ids: list[Id]
    avatar_url: Url | None = None


class CreateChatIn(RootModel[Annotated[CreateDmIn | CreateGroupIn, Field(discriminator="type")]]):
    """`{type: "dm", user_id}` or `{type: "group", name, member_ids, avatar_url?}`."""


class ListChatsIn(In):
    include_archived: StrictBool = False
    include_hidden: StrictBool = False


class ChatIdIn(In):
    chat_id: Id


class UpdateChatIn(In):
    """Only the fields given change; `avatar_url: null` removes the avatar."""

    chat_id: Id
    name: GroupName | None = None
    avatar_url: Url | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateChatIn:
        if not self.model_fields_set - {"chat_id"}:
            raise ValueError("give name or avatar_url")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        return self


class AddMembersIn(In):
    chat_id: Id
    user_ids: Annotated[list[Id], Field(min_length=1)]


class MemberIn(In):
    chat_id: Id
    user_id: Id


class SetRoleIn(In):
    chat_id: Id
    user_id: Id
    role: Literal["admin", "member"]


class ArchiveIn(In):
    chat_id: Id
    archived: StrictBool


class HideIn(In):
    chat_id: Id
    hidden: StrictBool


class MemberOut(Out):
    user: UserPublic
    role: Role
    joined_at: datetime


OPTIONAL_PARTS = ("members", "role", "archived", "hidden")
"""Keys of `ChatOut` left out of the JSON when they are not given."""


class ChatOut(Out):
    id: Id
    type: Literal["dm", "group"]
    name: str | None
    avatar_url: str | None
    created_by: Id | None
    created_at: datetime
    last_seq: int
    last_change: int
    last_activity_at: datetime
    members: list[MemberOut] | None = None
    role: Role | None = None
    archived: bool | None = None
    hidden: bool | None = None

    @model_serializer(mode="wrap")
    def _leave_out_absent_parts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        for name in OPTIONAL_PARTS:
            if data.get(name) is None:
                data.pop(name, None)
        return data


class ChatListItem(ChatOut):
    """A chat in chat:list: the viewer's fields, newest message and unread count included."""

    last_message: MessageOut | None
    unread_count: int


class ChatEnvelope(Out):
    chat: ChatOut


class ChatListOut(Out):
    chats: list[ChatListItem]
