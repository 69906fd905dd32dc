"""The pieces of HTTPS that need no server: the self-signed certificate's upkeep, the scheme a
configuration implies, and the verifier's rules for https endpoints."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cryptography import x509

from postroom.consumer import SignatureError, SnsVerifier
from postroom.server.config import ServerConfig
from postroom.server.tls import certificate_hosts, ensure_self_signed


def _sans(path: Path) -> set[str]:
    san = x509.load_pem_x509_certificate(path.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    return {*san.get_values_for_type(x509.DNSName), *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))}


def test_plain_http_unless_asked() -> None:
    assert ServerConfig().scheme == "http"  # `make run` passes no TLS option
    assert ServerConfig(tls_self_signed=True).scheme == "https"
    assert ServerConfig(tls_cert=Path("c.pem"), tls_key=Path("k.pem")).scheme == "https"


def test_certificate_hosts() -> None:
    assert certificate_hosts("127.0.0.1") == ["localhost", "127.0.0.1", "::1"]
    assert certificate_hosts("bus.internal") == ["localhost", "127.0.0.1", "::1", "bus.internal"]
    assert certificate_hosts("0.0.0.0")[-1] == socket.gethostname().lower()
    assert certificate_hosts("127.0.0.1", "https://sqs.example.test:9700")[-1] == "sqs.example.test"
    assert "{region}" not in "".join(certificate_hosts("127.0.0.1", "https://sqs.{region}.example.test"))


def test_self_signed_is_made_once_and_grows_with_new_hosts(tmp_path: Path) -> None:
    first = ensure_self_signed(tmp_path, ["localhost", "127.0.0.1"])
    assert first.status == "created" and _sans(first.cert) == {"localhost", "127.0.0.1"}
    cert, key = first.cert.read_bytes(), first.key.read_bytes()
    again = ensure_self_signed(tmp_path, ["127.0.0.1"])
    assert again.status == "reused" and again.cert.read_bytes() == cert
    # A new --host: a new certificate, same key, the old names kept.
    grown = ensure_self_signed(tmp_path, ["localhost", "bus.internal"])
    assert grown.status == "renewed"
    assert _sans(grown.cert) == {"localhost", "127.0.0.1", "bus.internal"}
    assert grown.key.read_bytes() == key and grown.cert.read_bytes() != cert
    # A lost key means a new key and a new certificate.
    grown.key.unlink()
    fresh = ensure_self_signed(tmp_path, ["localhost"])
    assert fresh.status == "created" and fresh.key.read_bytes() != key and _sans(fresh.cert) == {"localhost"}


def test_verifier_rules_for_https_endpoints(tmp_path: Path) -> None:
    pem = "/_postroom/sns/SimpleNotificationService-postroom.pem"
    https = SnsVerifier.for_endpoint("https://127.0.0.1:9443")
    https.check_cert_url("https://127.0.0.1:9443" + pem)
    for bad in ("http://127.0.0.1:9443" + pem,      # an https endpoint's certificate never over HTTP
                "https://127.0.0.1:9444" + pem,     # another port
                "https://evil.example" + pem):      # another host
        with pytest.raises(SignatureError):
            https.check_cert_url(bad)
    # A plain-HTTP endpoint keeps working as before.
    SnsVerifier.for_endpoint("http://127.0.0.1:9700").check_cert_url("http://127.0.0.1:9700" + pem)
    with pytest.raises(ValueError):
        SnsVerifier.for_endpoint("ftp://127.0.0.1:9700")
    with pytest.raises(FileNotFoundError):
        SnsVerifier(ca_bundle=tmp_path / "missing.pem")
