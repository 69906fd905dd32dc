"""The key and certificate postroom signs SNS envelopes with.

SNS signs every envelope it sends to HTTP/HTTPS endpoints and to SQS queues
(standard topics) with an RSA key whose X.509 certificate it serves at
``SigningCertURL``. Consumers (the AWS SDK validators, ``sns-validator``, ...) fetch
the certificate, rebuild the string to sign from the JSON (see
``postroom.core.sns.envelope.string_to_sign``) and check ``Signature`` against it:
"Verifying the signatures of Amazon SNS messages" in the *Amazon SNS Developer Guide*.

* ``SignatureVersion`` "1": ``Signature`` is base64 of an RSASSA-PKCS1-v1_5 signature
  over the SHA1 hash of the string to sign (Java's ``SHA1withRSA``);
* ``SignatureVersion`` "2": the same over SHA256 (``SHA256withRSA``).

postroom makes its own RSA 2048 key and a self-signed certificate once, keeps them in
a directory (files mode 0600), and reloads them on later starts so the certificate
consumers cached stays valid. The server serves ``certificate_pem()`` at
``CERT_PATH``. The helpers at the end (``self_signed_certificate``, ``write_private``, ...)
also make the TLS certificate of ``postroom serve --tls-self-signed`` (``postroom.server.tls``).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import fcntl
import ipaddress
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from postroom.core.sns.envelope import Envelope, string_to_sign
from postroom.errors import InvalidParameterValue

#: Path at which the server serves the signing certificate; ``SigningCertURL`` is
#: ``<scheme>://<host>`` + this. AWS's certificates are named
#: ``SimpleNotificationService-<hash>.pem``, and validators insist on ``.pem``.
CERT_PATH = "/_postroom/sns/SimpleNotificationService-postroom.pem"

KEY_FILE = "sns-signing-key.pem"
CERT_FILE = "sns-signing-cert.pem"
_LOCK_FILE = ".sns-signing.lock"

KEY_BITS = 2048
CERT_VALIDITY = datetime.timedelta(days=3650)
#: Backdating of ``notBefore``, so that consumers with a slow clock accept the certificate.
_CLOCK_SKEW = datetime.timedelta(days=1)

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}


def hash_for(signature_version: str) -> hashes.HashAlgorithm:
    """The hash of ``SignatureVersion``: "1" SHA1, "2" SHA256."""
    algorithm = _HASHES.get(signature_version)
    if algorithm is None:
        raise InvalidParameterValue(f"Invalid SignatureVersion: {signature_version}")
    return algorithm()


class Signer:
    """Signs SNS envelopes with postroom's RSA key; holds the matching certificate."""

    def __init__(self, private_key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        if not certificate_matches(private_key, certificate):
            raise ValueError("the certificate does not belong to the private key")
        self._key = private_key
        self._certificate = certificate
        self._certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def load_or_create(cls, directory: Path, host_for_cert: str = "postroom.local") -> Signer:
        """Load the key and certificate kept in ``directory``, making them the first time.

        The directory is created (mode 0700) if needed; the key and certificate are
        written with mode 0600 and published atomically, under an exclusive lock so
        that processes starting together agree on one key. A certificate that is
        missing, expired, or not the key's is replaced (same key); a missing key means
        a new key and a new certificate (``CN=sns.<host_for_cert>``, valid 10 years).
        """
        directory = Path(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with locked_file(directory / _LOCK_FILE):
            key_path = directory / KEY_FILE
            cert_path = directory / CERT_FILE
            if key_path.exists():
                private_key = load_rsa_key(key_path)
            else:
                private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
                write_private(
                    key_path,
                    private_key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ),
                )
                with contextlib.suppress(FileNotFoundError):
                    cert_path.unlink()
            certificate = load_certificate(cert_path) if cert_path.exists() else None
            now = datetime.datetime.now(datetime.UTC)
            if (certificate is None or not certificate_matches(private_key, certificate)
                    or certificate.not_valid_after_utc <= now):
                certificate = _self_signed(private_key, f"sns.{host_for_cert}", now)
                write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
        return cls(private_key, certificate)

    @classmethod
    def generate(cls, host_for_cert: str = "postroom.local") -> Signer:
        """A new key and self-signed certificate, kept nowhere (see ``to_pem``)."""
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        now = datetime.datetime.now(datetime.UTC)
        return cls(private_key, _self_signed(private_key, f"sns.{host_for_cert}", now))

    def to_pem(self) -> str:
        """Key and certificate as one PEM text, for a store shared by several nodes."""
        key = self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        return (key + self._certificate_pem).decode("ascii")

    @classmethod
    def from_pem(cls, text: str) -> Signer:
        data = text.encode("ascii")
        private_key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError("the SNS signing key must be an RSA key")
        return cls(private_key, x509.load_pem_x509_certificate(data[data.index(b"-----BEGIN CERTIFICATE-----"):]))

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    def certificate_pem(self) -> bytes:
        """The certificate, PEM-encoded: what ``SigningCertURL`` serves."""
        return self._certificate_pem

    def signature(self, text: str, signature_version: str) -> str:
        """Base64 of the PKCS#1 v1.5 signature of ``text``'s UTF-8 bytes for ``signature_version``."""
        raw = self._key.sign(text.encode("utf-8"), padding.PKCS1v15(), hash_for(signature_version))
        return base64.b64encode(raw).decode("ascii")

    def sign(self, envelope: Mapping[str, Any]) -> Envelope:
        """A copy of ``envelope`` with ``Signature`` filled for its ``SignatureVersion``.

        ``Signature`` keeps its place (right after ``SignatureVersion`` when the
        envelope had no placeholder). An envelope without ``SignatureVersion`` (a FIFO
        topic's notification, which SNS does not sign) is returned unchanged.
        """
        signed: Envelope = dict(envelope)
        version = signed.get("SignatureVersion")
        if version is None:
            return signed
        value = self.signature(string_to_sign(signed), str(version))
        if "Signature" in signed:
            signed["Signature"] = value
            return signed
        ordered: Envelope = {}
        for key, item in signed.items():
            ordered[key] = item
            if key == "SignatureVersion":
                ordered["Signature"] = value
        return ordered


def certificate_matches(private_key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> bool:
    public = certificate.public_key()
    return isinstance(public, rsa.RSAPublicKey) and public.public_numbers() == private_key.public_key().public_numbers()


@contextlib.contextmanager
def locked_file(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created mode 0600) for the duration of the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600: a temporary file, then an atomic rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    os.replace(tmp, path)


def load_rsa_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return key


def load_certificate(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError:
        return None


def _self_signed(private_key: rsa.RSAPrivateKey, common_name: str, now: datetime.datetime) -> x509.Certificate:
    return self_signed_certificate(private_key, common_name, now, hosts=[common_name])


def self_signed_certificate(private_key: rsa.RSAPrivateKey, common_name: str, now: datetime.datetime, *,
                            hosts: Sequence[str], server_auth: bool = False,
                            validity: datetime.timedelta = CERT_VALIDITY) -> x509.Certificate:
    """A self-signed end-entity certificate for ``private_key`` (``CN=common_name``, O=postroom).

    ``hosts`` become the subjectAltName: IP literals as IP addresses, anything else as DNS names.
    ``server_auth`` makes it a TLS server certificate (key encipherment, extended key usage
    serverAuth) rather than a signing-only one. ``notBefore`` is backdated a day for slow clocks.
    The SNS signing certificate and the certificate ``postroom serve --tls-self-signed`` makes
    both come from here.
    """
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "postroom"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + validity)
        .add_extension(x509.SubjectAlternativeName([_general_name(h) for h in dict.fromkeys(hosts)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=server_auth,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if server_auth:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(private_key, hashes.SHA256())


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return x509.DNSName(host)
