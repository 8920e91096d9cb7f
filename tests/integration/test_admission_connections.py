"""Invalid DatabricksConnections, each rejected by the real API server naming its field.

The schema and CEL rules admit only the shape of a workspace URL and a Secret reference; which hosts get
credentials is the operator's configuration, checked at reconcile (tests/unit/pipeline/test_connections.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.integration.kubectl import Kubectl

pytestmark = pytest.mark.integration

VALID: dict[str, Any] = {
    "host": "https://dbc-1234.cloud.databricks.com",
    "authType": "oauth-m2m",
    "credentialsSecretRef": {"name": "databricks-sp"},
}
DROP = object()  # a field left out


def _with(change: dict[str, Any]) -> dict[str, Any]:
    """VALID with ``change`` merged in (one level into credentialsSecretRef); DROP removes a field."""
    spec = {**VALID, "credentialsSecretRef": dict(VALID["credentialsSecretRef"])}
    for key, value in change.items():
        target, name = (spec["credentialsSecretRef"], key.split(".", 1)[1]) if "." in key else (spec, key)
        if value is DROP:
            target.pop(name, None)
        else:
            target[name] = value
    return spec


# (why it must be refused, the spec change, the field the API server must name)
INVALID: list[Any] = [
    pytest.param("plain http off loopback sends the token in clear", {"host": "http://dbc-1.cloud.databricks.com"},
                 "spec.host", id="01-http-not-loopback"),
    pytest.param("localhost only as a prefix of another host", {"host": "http://localhost.attacker.example"},
                 "spec.host", id="02-localhost-prefix"),
    pytest.param("a loopback address only as a prefix", {"host": "http://127.0.0.1.attacker.example:8080"},
                 "spec.host", id="03-loopback-prefix"),
    pytest.param("an IPv6 address that is not loopback", {"host": "http://[::2]:8080"}, "spec.host",
                 id="04-ipv6-not-loopback"),
    pytest.param("userinfo hides the real host", {"host": "https://dbc-1.cloud.databricks.com@attacker.example"},
                 "spec.host", id="05-userinfo"),
    pytest.param("a path is not a workspace URL", {"host": "https://dbc-1.cloud.databricks.com/api/2.2"},
                 "spec.host", id="06-path"),
    pytest.param("a query is not a workspace URL", {"host": "https://dbc-1.cloud.databricks.com?o=1"},
                 "spec.host", id="07-query"),
    pytest.param("a backslash some parsers read as a path", {"host": "https://attacker.example\\.databricks.com"},
                 "spec.host", id="08-backslash"),
    pytest.param("no scheme", {"host": "dbc-1.cloud.databricks.com"}, "spec.host", id="09-no-scheme"),
    pytest.param("another scheme", {"host": "ftp://dbc-1.cloud.databricks.com"}, "spec.host", id="10-ftp"),
    pytest.param("longer than any host name", {"host": "https://" + "a" * 300 + ".cloud.databricks.com"},
                 "spec.host", id="11-too-long"),
    pytest.param("a connection names a workspace", {"host": DROP}, "spec.host", id="12-host-missing"),
    pytest.param("only pat and oauth-m2m exist", {"authType": "basic"}, "spec.authType", id="13-auth-type"),
    pytest.param("the credentials come from a Secret", {"credentialsSecretRef": DROP},
                 "spec.credentialsSecretRef", id="14-secret-ref-missing"),
    pytest.param("which Secret", {"credentialsSecretRef.name": DROP}, "spec.credentialsSecretRef.name",
                 id="15-secret-name-missing"),
    pytest.param("not a valid Secret name", {"credentialsSecretRef.name": "Databricks_SP"},
                 "spec.credentialsSecretRef.name", id="16-secret-name-invalid"),
    pytest.param("a key name cannot hold a slash", {"credentialsSecretRef.tokenKey": "a/token"},
                 "spec.credentialsSecretRef.tokenKey", id="17-token-key"),
    pytest.param("a key name cannot hold a space", {"credentialsSecretRef.clientSecretKey": "client secret"},
                 "spec.credentialsSecretRef.clientSecretKey", id="18-client-secret-key"),
    pytest.param("a key name cannot be empty", {"credentialsSecretRef.clientIdKey": ""},
                 "spec.credentialsSecretRef.clientIdKey", id="19-client-id-key-empty"),
    pytest.param("credentials never go in the spec", {"token": "dapi-0123"}, "spec.token",
                 id="20-token-in-spec"),
]  # fmt: skip


@pytest.fixture
def ns(kubectl: Kubectl) -> Iterator[str]:
    name = f"dbc-{uuid.uuid4().hex[:8]}"
    kubectl.ok("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


def _manifest(name: str, spec: dict[str, Any]) -> str:
    return yaml.safe_dump({"apiVersion": "anthill.io/v1alpha1", "kind": "DatabricksConnection",
                           "metadata": {"name": name}, "spec": spec})  # fmt: skip


def test_the_valid_base_is_admitted(kubectl: Kubectl, ns: str) -> None:
    """So that each case below fails for its one change only."""
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=_manifest("valid", VALID))
    for host in ("http://127.0.0.1:8766", "http://localhost:8766", "http://[::1]:8766"):
        kubectl.ok("apply", "-n", ns, "-f", "-", stdin=_manifest("loopback", {**VALID, "host": host}))


@pytest.mark.parametrize(("why", "change", "field"), INVALID)
def test_invalid_connection_is_rejected_naming_the_field(
    kubectl: Kubectl, ns: str, why: str, change: dict[str, Any], field: str
) -> None:
    result = kubectl("apply", "-n", ns, "-f", "-", stdin=_manifest("invalid", _with(change)))
    assert result.returncode != 0, f"admitted, but {why}"
    assert field in result.stderr, result.stderr
    assert kubectl("get", "dbc", "-n", ns, "-o", "name").stdout == ""  # nothing half-created


def test_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 15
