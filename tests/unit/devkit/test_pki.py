"""The throwaway PKI: a CA that really signed a serving cert valid for every name clients use."""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from anthill_devkit.pki import API_SERVER_IPS, API_SERVER_NAMES, build_pki, new_token

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC)


def test_serving_cert_is_issued_by_the_ca_for_all_names() -> None:
    material = build_pki(NOW)
    ca = x509.load_pem_x509_certificate(material.ca_cert)
    serving = x509.load_pem_x509_certificate(material.serving_cert)
    serving.verify_directly_issued_by(ca)
    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == set(API_SERVER_NAMES)
    assert {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)} == set(API_SERVER_IPS)
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)


def test_validity_is_anchored_at_the_given_clock() -> None:
    serving = x509.load_pem_x509_certificate(build_pki(NOW, datetime.timedelta(days=1)).serving_cert)
    assert serving.not_valid_before_utc <= NOW < serving.not_valid_after_utc
    assert serving.not_valid_after_utc == NOW + datetime.timedelta(days=1)


def test_service_account_keys_form_a_pair() -> None:
    material = build_pki(NOW)
    private = serialization.load_pem_private_key(material.sa_private_key, password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public == material.sa_public_key


def test_each_cluster_gets_its_own_secrets() -> None:
    assert build_pki(NOW).ca_cert != build_pki(NOW).ca_cert
    assert new_token() != new_token()
    assert len(new_token()) >= 40
