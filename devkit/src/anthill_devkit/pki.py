"""Throwaway PKI for the local control plane: a CA, the API server's serving cert, the SA signing key.

Generated fresh for every cluster, so nothing secret is shared between runs or committed.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVICE_IP = "10.0.0.1"  # first address of the service CIDR: the in-cluster `kubernetes` Service
API_SERVER_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
API_SERVER_IPS = ("127.0.0.1", SERVICE_IP)


@dataclass(frozen=True)
class Pki:
    """PEM-encoded material, ready to write to disk."""

    ca_cert: bytes
    serving_cert: bytes
    serving_key: bytes
    sa_private_key: bytes
    sa_public_key: bytes
    kubelet_client_cert: bytes
    kubelet_client_key: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def build_pki(
    now: datetime.datetime,
    valid_for: datetime.timedelta = datetime.timedelta(days=30),
    extra_ips: tuple[str, ...] = (),
) -> Pki:
    """Generate a CA and the certificates the local API server needs, valid from ``now``.

    ``extra_ips`` are more addresses the API server serves on (a node's bridge address, which pods use).
    """
    not_before = now - datetime.timedelta(minutes=5)  # tolerate small clock differences
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "anthill-local-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    serving_key = _key()
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in API_SERVER_NAMES]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in dict.fromkeys((*API_SERVER_IPS, *extra_ips))]
    serving_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(serving_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + valid_for)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # The API server's client identity towards kubelets (logs, exec): a member of system:masters, which
    # the kubelet's webhook authorizer allows, as kubeadm's apiserver-kubelet-client.
    client_key = _key()
    client_cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver-kubelet-client"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(client_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + valid_for)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    sa_key = _key()
    return Pki(
        ca_cert=ca_cert.public_bytes(serialization.Encoding.PEM),
        serving_cert=serving_cert.public_bytes(serialization.Encoding.PEM),
        serving_key=_private_pem(serving_key),
        sa_private_key=_private_pem(sa_key),
        sa_public_key=sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        kubelet_client_cert=client_cert.public_bytes(serialization.Encoding.PEM),
        kubelet_client_key=_private_pem(client_key),
    )


def new_token() -> str:
    """A bearer token for the static token file."""
    return secrets.token_urlsafe(32)
