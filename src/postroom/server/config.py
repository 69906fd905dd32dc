"""Server configuration, as ``postroom serve`` receives it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 9700
    data_dir: Path = Path("postroom-data")
    store_url: str | None = None
    account_id: str = "000000000000"
    region: str = "us-east-1"
    log_level: str = "info"
    durability: str = "full"
    aws_timing: bool = False
    debug_clock: bool = False
    expire_interval_s: float = 10.0
    default_archive_days: int = 7
    unrouted_days: int = 7
    public_url: str | None = None
