"""Settings of egovsim, read from ``EGOVSIM_*`` environment variables (pydantic-settings).

README's configuration table is generated from :data:`Settings.model_fields`; a test keeps
the two in step.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ClockMode = Literal["real", "frozen", "offset", "speed"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EGOVSIM_", extra="ignore", frozen=True)

    host: str = Field("127.0.0.1", description="interface the HTTP server listens on")
    port: int = Field(8080, ge=1, le=65535, description="HTTP port of the server")
    data_dir: Path = Field(
        Path(".egovsim"), description="folder for the SQLite database, key files, personas and the admin token"
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; empty means SQLite in the data folder. PostgreSQL: postgresql+psycopg://user@host/db",
    )
    catalog_dir: Path | None = Field(
        None, description="folder of service files (*.yaml) to use instead of the built-in 18 services"
    )
    public_url: AnyHttpUrl | None = Field(
        None,
        description="URL at which clients reach this instance (printed, and put in certificates); default http://host:port",
    )
    kernel_url: AnyHttpUrl | None = Field(
        None, description="base URL of the kernel (catalogue, clock, traces); empty = in this process"
    )
    signing_url: AnyHttpUrl | None = Field(None, description="base URL of signing/ (НУЦ); empty = in this process")
    gateway_url: AnyHttpUrl | None = Field(
        None, description="base URL of gateway/ (ШЭП, АРМ РШЭП); empty = in this process"
    )
    registries_url: AnyHttpUrl | None = Field(None, description="base URL of mock_registries/; empty = in this process")
    portal_url: AnyHttpUrl | None = Field(
        None, description="base URL of portal/ (egov.kz, ХҚО); empty = in this process"
    )
    cabinet_url: AnyHttpUrl | None = Field(None, description="base URL of cabinet/; empty = in this process")
    clock_mode: ClockMode = Field(
        "real", description="clock mode when the database holds no clock state yet: real, frozen, offset, speed"
    )
    clock_start: datetime | None = Field(
        None, description="simulated instant the clock starts at (frozen, offset and speed modes); ISO 8601 with offset"
    )
    clock_speed: float = Field(60.0, gt=0, le=1_000_000, description="simulated seconds per real second in speed mode")
    clock_sync_seconds: float = Field(
        1.0, ge=0, le=60, description="how often a process re-reads the shared clock state (compose); 0 = every read"
    )
    seed: int | None = Field(
        None, description="random seed: with a frozen clock, runs give the same personas, ids and outcomes"
    )
    admin_token: SecretStr | None = Field(
        None, description="bearer token for admin endpoints; empty = generated once and kept in DATA_DIR/admin-token"
    )
    max_body_bytes: int = Field(5_000_000, ge=1024, description="largest request body accepted, in bytes")
    trace_retention_days: int = Field(0, ge=0, description="days trace events are kept; 0 = forever")
    journal_retention_days: int = Field(30, ge=0, description="days the gateway's message journal keeps; 0 = forever")
    journal_max_xml_bytes: int = Field(
        65_536, ge=0, description="largest request or response XML the message journal stores whole (cut beyond)"
    )
    revocation_cache_seconds: float = Field(
        10.0, ge=0, le=3600, description="how long a relying party (the gateway) reuses an OCSP/CRL answer"
    )
    background_tasks: bool = Field(
        True, description="run components' background work (async delivery, the workstation's autopilot)"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="server log level")
    password_hashing: Literal["standard", "fast"] = Field(
        "standard", description="argon2id cost: standard (~0.1 s a hash); fast only for throw-away test simulators"
    )
    # -- the local signer (signing/ncalayer.py), started by `egovsim up` --------------------------
    ncalayer_enabled: bool = Field(True, description="start the NCALayer-protocol signer beside `egovsim up`")
    ncalayer_host: str = Field(
        "127.0.0.1", description="interface the signer listens on; keep it on loopback, as NCALayer is"
    )
    ncalayer_port: int = Field(13579, ge=0, le=65535, description="port of the signer (NCALayer's); 0 = any free port")
    ncalayer_tls: bool = Field(
        False, description="serve wss:// and https:// with a localhost certificate made once in DATA_DIR/ncalayer/"
    )
    ncalayer_timeout_seconds: float = Field(
        300.0, gt=0, le=86_400, description="how long a signing request waits for a key choice before action.canceled"
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, v: str | None) -> str | None:
        if v and not v.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite and postgresql URLs are supported")
        return v or None

    @property
    def effective_database_url(self) -> str:
        """The async SQLAlchemy URL: SQLite in the data folder unless DATABASE_URL is set."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            if url.startswith("sqlite:"):
                url = "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
            return url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'egovsim.sqlite3').resolve()}"

    @property
    def effective_public_url(self) -> str:
        if self.public_url:
            return str(self.public_url).rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    def component_url(self, component: str) -> str | None:
        """Base URL of another component, or None when it runs in this process."""
        value = getattr(self, f"{component}_url", None)
        return str(value).rstrip("/") if value else None
