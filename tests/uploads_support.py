"""Upload test support: sample files made on the spot, both storages, and upload helpers.

S3 is moto's real server mode on a loopback port (one per test session); local disk is the
test's UPLOAD_DIR. Each storage can list what it holds, so tests can prove nothing was left.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import struct
import uuid
import wave
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from PIL import Image

from tests.clients import Account, Api

S3_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
S3_REGION = "us-east-1"


# Samples


def png(width: int = 64, height: int = 48, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny real PNG whose header claims `width` x `height` (a decompression bomb's shape)."""
    data = bytearray(png(1, 1, "L"))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


def mp4(seconds: float) -> bytes:
    """The smallest MP4 a player would name: ftyp, moov/mvhd with the duration, mdat."""

    def box(name: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(payload), name) + payload

    mvhd = bytes(12) + struct.pack(">II", 1000, int(seconds * 1000)) + bytes(80)
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    return ftyp + box(b"moov", box(b"mvhd", mvhd)) + box(b"mdat", bytes(64))


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def elf_executable() -> bytes:
    return Path(shutil.which("ls") or "/bin/ls").read_bytes()


def windows_executable() -> bytes:
    """An MZ stub pointing at a PE header, as every .exe starts."""
    return b"MZ" + bytes(58) + struct.pack("<I", 64) + b"PE\0\0" + b"\x4c\x01" + bytes(256)


# Uploading


async def upload(
    api: Api,
    account: Account,
    data: bytes,
    filename: str = "file.bin",
    content_type: str = "application/octet-stream",
) -> tuple[int, Any]:
    form = FormData()
    form.add_field("file", data, filename=filename, content_type=content_type)
    return await api.post("/api/upload", data=form, token=account.access_token)


async def uploaded(api: Api, account: Account, data: bytes, filename: str) -> dict[str, Any]:
    status, body = await upload(api, account, data, filename)
    assert status == 201, body
    return body["attachment"]


# Storages


class LocalFiles:
    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings: dict[str, Any] = {"upload_dir": root}

    async def keys(self) -> set[str]:
        return {p.name for p in self.root.glob("*/*") if p.parent.name != ".incoming"}

    async def incoming(self) -> list[Path]:
        return list((self.root / ".incoming").glob("*"))


class S3Files:
    kind = "s3"

    def __init__(self, endpoint: str, root: Path) -> None:
        self.bucket = f"parley-{uuid.uuid4().hex[:12]}"
        self.root = root
        import boto3  # imported here: conftest loads this module for every test session

        self.client = boto3.client(
            "s3", endpoint_url=endpoint, region_name=S3_REGION, **S3_CREDENTIALS
        )
        self.client.create_bucket(Bucket=self.bucket)
        self.settings = {
            "upload_dir": root,
            "s3_bucket": self.bucket,
            "s3_endpoint_url": endpoint,
            "s3_region": S3_REGION,
            **S3_CREDENTIALS,
        }

    async def keys(self) -> set[str]:
        listing = await asyncio.to_thread(self.client.list_objects_v2, Bucket=self.bucket)
        return {item["Key"] for item in listing.get("Contents", [])}

    async def incoming(self) -> list[Path]:
        return list((self.root / ".incoming").glob("*"))


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 as a real HTTP server on a loopback port."""
    from moto.server import ThreadedMotoServer  # slow to import; only S3 tests need it

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def file_store(request: pytest.FixtureRequest, tmp_path: Path) -> LocalFiles | S3Files:
    """The storage under test: local disk, or a fresh bucket on moto's S3."""
    if request.param == "local":
        return LocalFiles(tmp_path / "uploads")
    return S3Files(request.getfixturevalue("moto_endpoint"), tmp_path / "uploads")
