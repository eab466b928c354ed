"""chat:list: order, last message, unread counts, archived/hidden filters, fixed query count."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp.test_utils import TestServer

from tests.clients import Api, SocketClient, make_group
from tests.test_chats import Person, person

CHAT_TABLES = re.compile(r'\b"?(chats|memberships|messages|message_hides|reactions)"?\b')


async def say(socket: SocketClient, chat_id: str, content: str = "hi") -> dict[str, Any]:
    payload = {"chat_id": chat_id, "client_id": uuid.uuid4().hex, "type": "text"}
    return (await socket.ok("message:send", {**payload, "content": content}))["message"]


async def listed(socket: SocketClient, **flags: bool) -> list[dict[str, Any]]:
    return (await socket.ok("chat:list", flags))["chats"]


class QueryLog(logging.Handler):
    """Counts the SQL statements on chat tables that Tortoise logs in this process."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if text.lstrip().upper().startswith(("SELECT", "WITH")) and CHAT_TABLES.search(text):
            self.statements.append(text)


@contextmanager
def counting_queries() -> Iterator[QueryLog]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = QueryLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_newest_activity_first_with_last_message_and_unread(
    api: Api, sockets: Any, server: TestServer
) -> None:
    alice, bob = [await person(api, sockets, server) for _ in range(2)]
    first = await make_group(alice.socket, bob.account, name="first")
    second = await make_group(alice.socket, bob.account, name="second")
    third = await make_group(alice.socket, bob.account, name="third")
    assert [c["id"] for c in await listed(alice.socket)] == [third["id"], second["id"], first["id"]]

    mine = await say(alice.socket, first["id"], "from alice")
    await say(bob.socket, second["id"], "one")
    two = await say(bob.socket, second["id"], "two")
    chats = await listed(alice.socket)
    assert [c["id"] for c in chats] == [second["id"], first["id"], third["id"]]
    by_id = {c["id"]: c for c in chats}
    assert by_id[second["id"]]["last_message"] == two
    assert by_id[second["id"]]["unread_count"] == 2 and by_id[second["id"]]["last_seq"] == 2
    assert by_id[first["id"]]["last_message"] == mine and by_id[first["id"]]["unread_count"] == 0
    assert by_id[third["id"]]["last_message"] is None and by_id[third["id"]]["unread_count"] == 0
    assert by_id[first["id"]]["role"] == "owner" and by_id[first["id"]]["archived"] is False
    assert "members" not in by_id[first["id"]]
    bob_view = {c["id"]: c for c in await listed(bob.socket)}
    assert bob_view[first["id"]]["unread_count"] == 1 and bob_view[first["id"]]["role"] == "member"

    await alice.socket.ok("message:read", {"chat_id": second["id"], "seq": 1})
    assert {c["id"]: c["unread_count"] for c in await listed(alice.socket)}[second["id"]] == 1


async def test_unread_skips_deleted_and_last_message_skips_deleted_for_me(
    api: Api, sockets: Any, server: TestServer
) -> None:
    alice, bob = [await person(api, sockets, server) for _ in range(2)]
    chat = await make_group(alice.socket, bob.account)
    kept = await say(bob.socket, chat["id"], "kept")
    gone = await say(bob.socket, chat["id"], "gone")
    newest = await say(bob.socket, chat["id"], "newest")
    await bob.socket.ok("message:delete", {"message_id": gone["id"], "scope": "everyone"})
    await alice.socket.ok("message:delete", {"message_id": newest["id"], "scope": "me"})
    [item] = await listed(alice.socket)
    tombstone = item["last_message"]
    assert (
        tombstone["id"] == gone["id"] and tombstone["deleted_at"] and tombstone["content"] is None
    )
    assert item["unread_count"] == 1
    await alice.socket.ok("message:delete", {"message_id": gone["id"], "scope": "me"})
    [item] = await listed(alice.socket)
    assert item["last_message"] == kept
    [bobs] = await listed(bob.socket)
    assert bobs["last_message"]["id"] == newest["id"]


async def test_archived_and_hidden_are_left_out_unless_asked(
    api: Api, sockets: Any, server: TestServer
) -> None:
    alice, bob = [await person(api, sockets, server) for _ in range(2)]
    plain = await make_group(alice.socket, bob.account, name="plain")
    archived = await make_group(alice.socket, bob.account, name="archived")
    hidden = await make_group(alice.socket, bob.account, name="hidden")
    both = await make_group(alice.socket, bob.account, name="both")
    await alice.socket.ok("chat:archive", {"chat_id": archived["id"], "archived": True})
    await alice.socket.ok("chat:hide", {"chat_id": hidden["id"], "hidden": True})
    await alice.socket.ok("chat:archive", {"chat_id": both["id"], "archived": True})
    await alice.socket.ok("chat:hide", {"chat_id": both["id"], "hidden": True})

    def names(chats: list[dict[str, Any]]) -> set[str]:
        return {c["name"] for c in chats}

    assert names(await listed(alice.socket)) == {"plain"}
    assert names(await listed(alice.socket, include_archived=True)) == {"plain", "archived"}
    assert names(await listed(alice.socket, include_hidden=True)) == {"plain", "hidden"}
    everything = await listed(alice.socket, include_archived=True, include_hidden=True)
    assert names(everything) == {"plain", "archived", "hidden", "both"}
    flags = {c["name"]: (c["archived"], c["hidden"]) for c in everything}
    assert flags == {
        "plain": (False, False),
        "archived": (True, False),
        "hidden": (False, True),
        "both": (True, True),
    }
    assert len(await listed(bob.socket)) == 4
    await alice.socket.ok("chat:archive", {"chat_id": archived["id"], "archived": False})
    assert names(await listed(alice.socket)) == {"plain", "archived"}
    assert plain["id"] in {c["id"] for c in await listed(bob.socket)}


async def populate(owner: Person, other: Person, chats: int) -> None:
    """`chats` groups with messages, reactions, a deletion and a deleted-for-me newest one."""
    for index in range(chats):
        chat = await make_group(owner.socket, other.account, name=f"g{index}")
        first = await say(other.socket, chat["id"])
        await say(owner.socket, chat["id"])
        last = await say(other.socket, chat["id"])
        await owner.socket.ok("reaction:add", {"message_id": first["id"], "emoji": "👍"})
        await other.socket.ok("message:delete", {"message_id": first["id"], "scope": "everyone"})
        if index == 0:
            await owner.socket.ok("message:delete", {"message_id": last["id"], "scope": "me"})


async def test_query_count_does_not_grow_with_chats(
    api: Api, sockets: Any, server: TestServer
) -> None:
    few, many, other = [await person(api, sockets, server) for _ in range(3)]
    await populate(few, other, 2)
    await populate(many, other, 9)
    with counting_queries() as log_few:
        assert len(await listed(few.socket)) == 2
    with counting_queries() as log_many:
        chats = await listed(many.socket)
    assert len(chats) == 9 and all(c["last_message"] for c in chats)
    assert 4 <= len(log_few.statements) == len(log_many.statements) <= 6, log_many.statements
