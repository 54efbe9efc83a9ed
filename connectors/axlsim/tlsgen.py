"""Throw-away CAs and server certificates: the simulator's ``tls=True``, and the TLS refusal tests.

A :class:`ServerCert` says what a server certificate claims: by default it is valid now for 127.0.0.1 and
localhost; tests ask for one that has expired or that names another host, to check that clients refuse it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class ServerCert:
    """What a server certificate says: the host names (or IP addresses) it is for, and whether it has expired."""

    names: tuple[str, ...] = LOOPBACK_NAMES
    expired: bool = False


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "syncd AXL simulator"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.touch(mode=0o600)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


class Authority:
    """A self-signed CA, valid from five minutes ago for 30 days, that issues :class:`ServerCert` certificates."""

    def __init__(self, cn: str = "syncd AXL simulator test CA") -> None:
        now = dt.datetime.now(dt.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = _name(cn)
        self.cert = (
            x509.CertificateBuilder().subject_name(self._name).issuer_name(self._name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )

    def write(self, path: Path) -> Path:
        """Write the CA certificate (PEM) to ``path``: the file a client trusts."""
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def issue(self, directory: Path, spec: ServerCert = ServerCert(), stem: str = "server") -> tuple[Path, Path]:
        """Write ``STEM.pem`` and ``STEM.key`` (mode 0600) for ``spec`` into ``directory``; return their paths.

        An expired certificate was valid for a day, ending a day ago (the CA itself is valid now)."""
        now = dt.datetime.now(dt.UTC)
        start, end = (now - dt.timedelta(days=2), now - dt.timedelta(days=1)) if spec.expired else (
            now - dt.timedelta(minutes=5), now + dt.timedelta(days=30))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder().subject_name(_name(spec.names[0])).issuer_name(self._name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([_san(n) for n in spec.names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                           critical=False)
            .sign(self._key, hashes.SHA256())
        )
        cert_file, key_file = directory / f"{stem}.pem", directory / f"{stem}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_file)
        return cert_file, key_file


def make_ca_and_server(directory: Path, spec: ServerCert = ServerCert()) -> tuple[Path, Path, Path]:
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` (mode 0600) into ``directory``; return their paths."""
    ca = Authority()
    cert_file, key_file = ca.issue(directory, spec)
    return ca.write(directory / "ca.pem"), cert_file, key_file
