"""A TCP proxy a test can cut and restore, to make a real service unreachable for a while."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp.test_utils import TestServer


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; `cut()` drops every connection, refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen (again, on the same port once one was chosen)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and drop every open connection (also the way to close it)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.close()
        if server is not None:
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()
        self._writers.discard(writer)


async def proxy_to(url: str) -> TcpProxy:
    """A started proxy to the host and port of a service URL."""
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 0)
    await proxy.start()
    return proxy


def through(proxy: TcpProxy, url: str) -> str:
    """The same service URL, reached through the proxy."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@contextlib.asynccontextmanager
async def server_with_cuttable_redis(
    start_server: Callable[..., Awaitable[TestServer]], redis_url: str, **settings: Any
) -> AsyncIterator[tuple[TcpProxy, TestServer]]:
    """A server whose Redis sits behind a proxy; the server is closed before the proxy."""
    proxy = await proxy_to(redis_url)
    server = await start_server(redis_url=through(proxy, redis_url), **settings)
    try:
        yield proxy, server
    finally:
        await server.close()
        await proxy.cut()
