"""Parley: wiring and the command line (serve, migrate, create-admin). See OPERATIONS.md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import socketio
from aiohttp import web
from pydantic import ValidationError
from redis.exceptions import RedisError

from handlers import auth, timers
from handlers.context import Ctx
from handlers.cors import origin_middleware, origin_policy, setup_cors
from handlers.engine import close_idle_sessions, polling_body_limit
from handlers.errors import DomainError
from handlers.http import register_routes
from handlers.http_kit import CTX, errors_middleware
from handlers.notify import Notifier
from handlers.realtime import SocketFanout
from handlers.schemas.auth import AdminIn
from handlers.sio import SocketTransport, build_server
from handlers.web_client import add_web_client
from infra import db, signed_urls
from infra.bus import MemoryBus, create_bus
from infra.logs import configure_logging
from infra.settings import Settings, describe_error
from infra.state import create_state
from infra.storage import create_storage

log = logging.getLogger("parley")
SIO = web.AppKey("sio", socketio.AsyncServer)
TRANSPORT = web.AppKey("transport", SocketTransport)
BUS = web.AppKey("bus", MemoryBus)
MAX_REQUEST_LINE_BYTES = 65536
"""Long enough that an over-long search query reaches the app and gets a contract error."""


def create_app(settings: Settings, *, migrate: bool = True) -> web.Application:
    """A fresh, self-contained Parley application (tests build one per test)."""
    sio = build_server(settings)
    app = web.Application(
        middlewares=[
            errors_middleware,
            origin_middleware(origin_policy(settings)),
            polling_body_limit(sio),
        ],
        client_max_size=settings.max_event_bytes,
        handler_args={"max_line_size": MAX_REQUEST_LINE_BYTES},
    )
    bus = create_bus(settings.redis_url)
    state = create_state(settings.redis_url)
    fanout = SocketFanout(sio, bus, state)
    ctx = Ctx(
        settings=settings,
        state=state,
        notify=Notifier(fanout),
        jwt_secret=settings.resolved_jwt_secret(),
        storage=create_storage(settings),
    )
    signed_urls.configure(ctx.jwt_secret, settings.file_url_ttl_seconds)
    transport = SocketTransport(sio, ctx)
    app[CTX], app[SIO], app[TRANSPORT], app[BUS] = ctx, sio, transport, bus
    sio.attach(app, socketio_path="socket.io")
    register_routes(app, ctx)
    setup_cors(app, settings)
    add_web_client(app)  # after CORS: the pages are same-origin only
    app.cleanup_ctx.append(_lifecycle(settings, ctx, transport, bus, fanout, migrate))
    app.on_shutdown.append(_close_sockets(transport, bus))
    return app


def _close_sockets(
    transport: SocketTransport, bus: MemoryBus
) -> Callable[[web.Application], Awaitable[None]]:
    """On shutdown, before aiohttp waits for open websocket handlers: close every socket."""

    async def close_sockets(app: web.Application) -> None:
        await _attempt("closing sockets", transport.shutdown(bus.node_id))

    return close_sockets


def _lifecycle(
    settings: Settings,
    ctx: Ctx,
    transport: SocketTransport,
    bus: MemoryBus,
    fanout: SocketFanout,
    migrate: bool,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await _connect(settings, bus, fanout, migrate)
        await ctx.storage.open()
        await timers.recover_all(ctx)
        tasks = [
            asyncio.create_task(timers.run_timers(ctx), name="timers"),
            asyncio.create_task(transport.keepalive(bus.node_id), name="keepalive"),
            asyncio.create_task(
                close_idle_sessions(transport.sio, settings.connect_timeout_seconds),
                name="idle-sessions",
            ),
        ]
        log.info("Parley ready (node %s)", bus.node_id)
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await _attempt("stopping the control bus", bus.stop())
        await _attempt("closing shared state", ctx.state.close())
        await _attempt("closing storage", ctx.storage.close())
        await _attempt("closing the database", db.close_database())

    return lifecycle


async def _connect(settings: Settings, bus: MemoryBus, fanout: SocketFanout, migrate: bool) -> None:
    """Open the database and join the control bus, or stop with a line naming the setting."""
    try:
        if migrate:
            await db.apply_migrations(settings.database_url)
        await db.open_database(settings.database_url)
    except Exception as exc:
        raise StartupError(f"cannot open the database (DATABASE_URL): {exc}") from exc
    try:
        await bus.start(fanout.apply)
    except RedisError as exc:
        await db.close_database()
        raise StartupError(f"cannot reach Redis (REDIS_URL): {exc}") from exc


async def _attempt(step: str, action: Awaitable[object]) -> None:
    """Shutdown goes on whatever one step hits (e.g. Redis already gone); failures are logged."""
    try:
        await action
    except Exception:
        log.exception("shutdown: %s failed", step)


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def serve(settings: Settings, reuse_port: bool = False) -> None:
    configure_logging(settings.log_level, settings.log_format)
    web.run_app(
        create_app(settings, migrate=not reuse_port),
        host=settings.host,
        port=settings.port,
        reuse_port=reuse_port or None,
        loop=_event_loop(),
        print=None,
        access_log=None,
    )


def serve_workers(settings: Settings, workers: int) -> None:
    """N processes on one port (SO_REUSEPORT); they share state through Redis."""
    if not settings.redis_url or settings.socketio_transports != ["websocket"]:
        raise SystemExit(
            "error: --workers > 1 needs REDIS_URL and SOCKETIO_TRANSPORTS=websocket "
            "(long-polling needs sticky sessions)"
        )
    asyncio.run(db.apply_migrations(settings.database_url))
    processes = [
        multiprocessing.Process(target=serve, args=(settings, True), name=f"parley-{i}")
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()


async def _migrate(settings: Settings) -> None:
    await db.apply_migrations(settings.database_url)


async def _create_admin(settings: Settings, command: AdminIn) -> str:
    await db.apply_migrations(settings.database_url)
    await db.open_database(settings.database_url)
    try:
        return await auth.ensure_admin(command, settings.bcrypt_rounds)
    finally:
        await db.close_database()


class StartupError(Exception):
    """Something the server needs is out of reach; one line says what (no traceback)."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="server.py", description="Parley chat backend")
    parser.add_argument("--host", help="listen address (default HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default PORT or 8000)")
    parser.add_argument("--workers", type=int, default=1, help="processes (needs Redis)")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve HTTP and Socket.IO (the default)")
    commands.add_parser("migrate", help="apply pending migrations and exit")
    admin = commands.add_parser("create-admin", help="create or promote an admin")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--username")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        print(f"error: {describe_error(exc)}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    try:
        _run(args, settings)
    except ValidationError as exc:
        print(f"error: {_describe_arguments(exc)}", file=sys.stderr)
        return 2
    except (StartupError, DomainError) as exc:
        log.critical("%s", exc)
        return 1
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        print("migrations applied")
    elif args.command == "create-admin":
        command = AdminIn(email=args.email, password=args.password, username=args.username)
        print(asyncio.run(_create_admin(settings, command)))
    elif args.workers > 1:
        serve_workers(settings, args.workers)
    else:
        serve(settings)


def _describe_arguments(error: ValidationError) -> str:
    """One line naming the offending command-line options."""
    return "; ".join(f"--{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())


if __name__ == "__main__":
    sys.exit(main())
