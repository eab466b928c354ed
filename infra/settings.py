"""Parley's settings: environment variables (or a `.env` file beside server.py).

Names and defaults follow ../shared/OPERATIONS.md; `.env.example` lists every one.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent
MIN_SECRET_BYTES = 32


def _split_list(value: object) -> object:
    """Accept a JSON list or a comma-separated string."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_DIR / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    data_dir: Path = PROJECT_DIR / "data"
    database_url: str = "sqlite://data/parley.sqlite3"
    redis_url: str | None = None
    jwt_secret: str | None = None
    parley_env: Literal["development", "production"] = "development"
    access_token_ttl_seconds: int = Field(900, ge=10)
    refresh_token_ttl_days: int = Field(30, ge=1)
    cors_origins: Annotated[list[str] | None, NoDecode] = None

    upload_dir: Path = PROJECT_DIR / "data" / "uploads"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    max_upload_mb: int = Field(50, ge=1)
    file_url_ttl_seconds: int = Field(3600, ge=60, description="lifetime of signed file URLs")

    smtp_url: str | None = None
    email_from: str = "Parley <no-reply@localhost>"

    twilio_account_sid: str | None = None
    twilio_api_key: str | None = None
    twilio_api_secret: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str = Field(
        "https://api.twilio.com", description="Messaging API root (a stand-in in tests)"
    )
    ice_servers: Annotated[list[str], NoDecode] = ["stun:stun.l.google.com:19302"]
    call_ring_timeout_seconds: float = Field(45, gt=0)
    call_rejoin_grace_seconds: float = Field(30, gt=0)

    message_rate_per_second: float = Field(10, ge=0)
    message_rate_burst: int = Field(50, ge=0)
    bcrypt_rounds: int = Field(12, ge=4, le=16)
    login_max_failures: int = Field(10, ge=1)
    login_failure_window_seconds: int = Field(900, ge=1)
    max_message_chars: int = Field(4000, ge=1)
    max_distinct_reactions: int = Field(50, ge=1)
    group_max_members: int = Field(1000, ge=2)

    socketio_transports: Annotated[list[Literal["websocket", "polling"]], NoDecode] = [
        "websocket",
        "polling",
    ]
    ws_compression: bool = False
    max_event_bytes: int = Field(131072, ge=1024)
    events_per_second: float = Field(20, ge=0)
    events_burst: int = Field(100, ge=0)
    events_flood_limit: int = Field(100, ge=1)
    max_events_in_flight: int = Field(50, ge=0)
    max_sockets_per_user: int = Field(20, ge=1)
    presence_ttl_seconds: float = Field(60, ge=1)
    connect_timeout_seconds: float = Field(5, gt=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("cors_origins", "ice_servers", "socketio_transports", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("smtp://", "smtps://")):
            raise ValueError("use smtp://user:pass@host:port or smtps://...")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("socketio_transports")
    @classmethod
    def _some_transport(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one transport: websocket, polling")
        return value

    @model_validator(mode="after")
    def _production_is_safe(self) -> Settings:
        if self.parley_env != "production":
            if self.cors_origins is None:
                self.cors_origins = ["*"]
            return self
        if not self.jwt_secret or len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"JWT_SECRET must be set to at least {MIN_SECRET_BYTES} bytes in production"
            )
        if self.bcrypt_rounds < 12:
            raise ValueError("BCRYPT_ROUNDS must be at least 12 in production")
        if self.cors_origins is None:
            self.cors_origins = []
        if "*" in self.cors_origins:
            raise ValueError("CORS_ORIGINS=* is refused in production; list the origins")
        return self

    @property
    def is_production(self) -> bool:
        return self.parley_env == "production"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def sms_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)

    @property
    def twilio_video_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_api_key and self.twilio_api_secret)

    def resolved_jwt_secret(self) -> str:
        """The configured secret, or (development) one generated once and kept in data_dir."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt_secret"
        if not path.exists():
            _create_secret_file(path)
        return path.read_text().strip()


def _create_secret_file(path: Path) -> None:
    """Write a new secret readable by the owner only; when processes race, the first wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".jwt_secret.")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def describe_error(error: ValidationError) -> str:
    """One line naming the offending setting(s) by their environment name."""
    parts = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]).upper() or "settings"
        parts.append(f"{name}: {item['msg']}")
    return "invalid setting " + "; ".join(parts)
