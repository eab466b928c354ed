"""Real `python server.py` processes for multi-node tests (shared PostgreSQL and Redis)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from aiohttp import ClientError, ClientSession

PROJECT_DIR = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Node:
    """One Parley process on a loopback port."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "server.py", "--port", str(self.port)],
            cwd=PROJECT_DIR,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self) -> None:
        deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
        async with ClientSession() as http:
            while asyncio.get_running_loop().time() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"node exited: {self.log_path.read_text()[-2000:]}")
                try:
                    async with http.get(self.url + "/readyz") as response:
                        if response.status == 200:
                            return
                except ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"node not ready: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


async def start_nodes(count: int, env: Mapping[str, str], log_dir: Path) -> list[Node]:
    """Start nodes one after another (the first applies migrations)."""
    nodes: list[Node] = []
    try:
        for index in range(count):
            node = Node(env, log_dir / f"node{index}.log")
            nodes.append(node)
            await node.wait_ready()
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return nodes
