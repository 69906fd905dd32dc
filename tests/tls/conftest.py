"""Fixtures for HTTPS: postroom servers started with --tls-self-signed or --tls-cert/--tls-key, spoken
to over HTTPS by boto3 and requests that trust exactly the server's certificate.

They are tests/api's Server, with an endpoint of https://127.0.0.1:<port> and a readiness poll over
HTTPS (trusting ``ca``, which for --tls-self-signed only exists once the server has made it).
"""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.api.conftest import REGION, REPO, Server, _shutdown

__all__ = ["REGION", "TlsServer", "aws_client", "make_ca_and_leaf"]


class TlsServer(Server):
    """A postroom process serving HTTPS; clients trust ``ca``."""

    def __init__(self, data_dir: Path, extra_args: tuple[str, ...], ca: Path) -> None:
        super().__init__(data_dir, extra_args)
        self.endpoint = f"https://127.0.0.1:{self.port}"
        self.ca = ca

    @property
    def log_path(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir.parent / f"server-{self.port}.log"

    def start(self) -> None:
        assert self.data_dir is not None
        self.clock_offset = 0.0
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process lifetime
        cmd = [sys.executable, "-m", "postroom", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(self.data_dir), "--log-level", "warning", "--debug-clock", *self.extra_args]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postroom exited with {self.proc.returncode} on start:\n"
                                   + self.log_path.read_text(errors="replace")[-3000:])
            if self.ca.exists():
                try:
                    if requests.get(self.endpoint + "/health", timeout=1, verify=str(self.ca)).status_code == 200:
                        return
                except requests.RequestException:
                    pass
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"postroom did not answer /health over HTTPS within 20 s; log: {self.log_path}")
            time.sleep(0.05)


def launch(extra: tuple[str, ...], ca: Path | None = None, root: Path | None = None) -> TlsServer:
    """A started TLS server; ``ca`` defaults to the self-signed certificate in its data dir."""
    root = root or Path(tempfile.mkdtemp(prefix="postroom-tls-"))
    data = root / "data"
    srv = TlsServer(data, extra, ca or data / "tls-cert.pem")
    srv.start()
    return srv


@pytest.fixture(scope="package")
def tls_server() -> Iterator[TlsServer]:
    """One --tls-self-signed server shared by the package (tests make uniquely named resources)."""
    srv = launch(("--tls-self-signed",))
    yield srv
    _shutdown(srv)


def aws_client(service: str, endpoint: str, verify: Path | bool | None) -> Any:
    """A boto3 client; ``verify``: the CA bundle to trust, or None for botocore's default trust store."""
    kwargs: dict[str, Any] = {}
    if verify is not None:
        kwargs["verify"] = str(verify) if isinstance(verify, Path) else verify
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, read_timeout=30, connect_timeout=5), **kwargs)


def make_ca_and_leaf(directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate it issued for ``hosts`` (EC P-256, as a real deployment might
    use): (ca.pem, server-cert.pem holding the leaf then the CA, server-key.pem)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "postroom test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for h in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            names.append(x509.DNSName(h))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "server-cert.pem", directory / "server-key.pem"
    ca_path.write_bytes(ca.public_bytes(pem))
    cert_path.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_path, cert_path, key_path
