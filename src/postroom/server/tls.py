"""HTTPS for ``postroom serve``: the certificate given with ``--tls-cert``/``--tls-key``, or one
``--tls-self-signed`` makes on first start.

The self-signed certificate and its RSA key live in the data dir (``tls-cert.pem``,
``tls-key.pem``, mode 0600) and are reused on every later start, so a client told to trust the
file once (``AWS_CA_BUNDLE=<data-dir>/tls-cert.pem``, boto3's ``verify=``, ``curl --cacert``)
keeps trusting it. It names ``localhost``, ``127.0.0.1``, ``::1`` and the ``--host`` address (the
machine's host name when listening on every interface). The certificate is made again, with the
same key, when it is missing, not the key's, about to expire, or lacks a host now asked for (the
hosts it named before stay in it). Like the key, it is made before uvicorn starts, under a lock,
so processes starting together on one data dir agree on one certificate; PostgreSQL nodes each
have their own data dir and hence their own certificate (give them one with ``--tls-cert``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import ipaddress
import socket
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from postroom.server.config import ServerConfig
from postroom.sns_signing import (
    KEY_BITS,
    certificate_matches,
    load_certificate,
    load_rsa_key,
    locked_file,
    self_signed_certificate,
    write_private,
)

CERT_FILE = "tls-cert.pem"
KEY_FILE = "tls-key.pem"
_LOCK_FILE = ".tls.lock"
#: 825 days: the longest validity macOS and iOS accept for a TLS server certificate.
VALIDITY = datetime.timedelta(days=825)
#: A certificate this close to its end is made again at start.
RENEW_BEFORE = datetime.timedelta(days=30)
_WILDCARD_BINDS = {"", "0.0.0.0", "::", "[::]"}


@dataclass(frozen=True)
class SelfSigned:
    cert: Path
    key: Path
    hosts: tuple[str, ...]
    #: "created", "renewed" or "reused"
    status: str


def certificate_hosts(bind_host: str, public_url: str | None = None) -> list[str]:
    """The names a self-signed certificate should hold for a server listening on ``bind_host``."""
    hosts = ["localhost", "127.0.0.1", "::1"]
    if bind_host.strip() in _WILDCARD_BINDS:
        hosts.append(socket.gethostname())
    else:
        hosts.append(bind_host.strip().strip("[]"))
    if public_url and "{" not in public_url:
        name = urlsplit(public_url).hostname
        if name:
            hosts.append(name)
    return [h.lower() for h in dict.fromkeys(hosts) if h]


def ensure_self_signed(directory: Path, hosts: list[str]) -> SelfSigned:
    """Load the self-signed TLS certificate and key kept in ``directory``, making them when needed."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
    with locked_file(directory / _LOCK_FILE):
        status = "reused"
        if key_path.exists():
            private_key = load_rsa_key(key_path)
        else:
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
            write_private(key_path, private_key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
            with contextlib.suppress(FileNotFoundError):
                cert_path.unlink()
            status = "created"
        certificate = load_certificate(cert_path) if cert_path.exists() else None
        now = datetime.datetime.now(datetime.UTC)
        named = _names(certificate) if certificate is not None else []
        wanted = list(dict.fromkeys([*named, *(_normal(h) for h in hosts)]))
        if (certificate is None or not certificate_matches(private_key, certificate)
                or certificate.not_valid_after_utc - RENEW_BEFORE <= now or len(wanted) > len(named)):
            if status == "reused":
                status = "renewed" if certificate is not None else "created"
            certificate = self_signed_certificate(private_key, "postroom", now, hosts=wanted, server_auth=True,
                                                  validity=VALIDITY)
            write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
            named = wanted
    return SelfSigned(cert_path, key_path, tuple(named), status)


def prepare(config: ServerConfig) -> ServerConfig:
    """The configuration uvicorn is started with: with ``tls_self_signed``, the certificate is made
    (or reused) and its paths filled in; the certificate and key are checked to load, and where
    to find the certificate is printed for the clients that have to trust it."""
    if not config.tls_self_signed and config.tls_cert is None:
        return config
    if config.tls_self_signed:
        made = ensure_self_signed(config.data_dir, certificate_hosts(config.host, config.public_url))
        config = dataclasses.replace(config, tls_cert=made.cert, tls_key=made.key)
        cert = made.cert.resolve()
        verb = {"created": "made a new", "renewed": "renewed the", "reused": "reusing the"}[made.status]
        print(f"postroom: HTTPS with a self-signed certificate ({verb} one in the data dir) for "
              f"{', '.join(made.hosts)}.\n"
              f"postroom: have clients trust it: AWS_CA_BUNDLE={cert}  (boto3: verify={str(cert)!r}; "
              f"curl --cacert {cert})", file=sys.stderr, flush=True)
    assert config.tls_cert is not None
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            str(config.tls_cert), str(config.tls_key) if config.tls_key else None)
    except (OSError, ssl.SSLError) as exc:
        raise SystemExit(f"postroom: cannot serve HTTPS with certificate {config.tls_cert} and key "
                         f"{config.tls_key}: {exc}") from None
    return config


def _normal(host: str) -> str:
    host = host.strip().strip("[]").lower()
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host))
    return host


def _names(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    dns = [_normal(n) for n in san.get_values_for_type(x509.DNSName)]
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return list(dict.fromkeys([*dns, *ips]))
