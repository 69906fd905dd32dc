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
    #: SigV4 verification: a credentials file (``--credentials``, re-read when it changes) and/or
    #: keys given in the environment (``POSTROOM_ACCESS_KEY_ID`` …); neither: any signature passes.
    credentials_file: Path | None = None
    env_credentials: tuple[tuple[str, str, str | None], ...] = ()
    """(access key id, secret, session token) of keys from the environment (the server's account)."""
    #: HTTPS: a PEM certificate (chain) and its key (``--tls-cert``/``--tls-key``), or
    #: ``tls_self_signed`` to have one made in ``data_dir`` on first start (``postroom.server.tls``).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_self_signed: bool = False

    @property
    def scheme(self) -> str:
        """The scheme the server is reached by: queue URLs, SigningCertURL and UnsubscribeURL follow it."""
        return "https" if self.tls_cert is not None or self.tls_self_signed else "http"
