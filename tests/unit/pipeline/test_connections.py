"""What a DatabricksConnection may name: hosts parsed against the operator's allowlist, credentials a header
can carry, and the pipelines that hold a connection while they are deleted."""

from __future__ import annotations

from typing import Any

import pytest

from anthill import conditions as cond
from anthill.pipeline.connections import (
    ConnectionNotReadyError,
    HostNotAllowedError,
    allowed_host,
    credentials_from_secret,
    not_readable,
    referenced_by,
)
from anthill_api.connection import DatabricksConnectionSpec

SUFFIXES = [".cloud.databricks.com", ".azuredatabricks.net", ".gcp.databricks.com"]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("https://dbc-1234.cloud.databricks.com", "https://dbc-1234.cloud.databricks.com", id="aws"),
        pytest.param("https://adb-1.2.azuredatabricks.net/", "https://adb-1.2.azuredatabricks.net",
                     id="azure-trailing-slash"),
        pytest.param("https://DBC-1.Cloud.Databricks.COM", "https://dbc-1.cloud.databricks.com",
                     id="case-folded"),
        pytest.param("https://dbc-1.cloud.databricks.com:443", "https://dbc-1.cloud.databricks.com",
                     id="explicit-default-port"),
    ],
)  # fmt: skip
def test_workspace_hosts_on_a_configured_suffix_are_allowed(host: str, expected: str) -> None:
    assert allowed_host(host, SUFFIXES, allow_loopback=False) == expected


@pytest.mark.parametrize(
    ("host", "why"),
    [
        pytest.param("https://attacker.example", "not a configured suffix", id="foreign"),
        pytest.param("https://dbc-1.cloud.databricks.com.attacker.example", "suffix in the middle",
                     id="suffix-as-prefix"),
        pytest.param("https://evilcloud.databricks.com", "suffix not at a dot boundary", id="no-dot-boundary"),
        pytest.param("https://dbc-1.cloud.databricks.com@attacker.example", "userinfo hides the real host",
                     id="userinfo"),
        pytest.param("https://user:pw@dbc-1.cloud.databricks.com", "credentials in the URL", id="password"),
        pytest.param("https://dbc-1.cloud.databricks.com:8443", "a port other than https'", id="port"),
        pytest.param("https://attacker.example:443.cloud.databricks.com", "port trick", id="port-trick"),
        pytest.param("https://attacker.example\\.cloud.databricks.com", "backslash read as a path by some parsers",
                     id="backslash"),
        pytest.param("http://dbc-1.cloud.databricks.com", "plain http off loopback", id="plain-http"),
        pytest.param("https://dbc-1.cloud.databricks.com/api", "a path", id="path"),
        pytest.param("https://dbc-1.cloud.databricks.com?x=1", "a query", id="query"),
        pytest.param("http://localhost.attacker.example", "localhost as a prefix only", id="localhost-prefix"),
        pytest.param("http://127.0.0.1.attacker.example", "a loopback address as a prefix only",
                     id="loopback-prefix"),
        pytest.param("http://127.0.0.1:8080", "loopback without the development setting", id="loopback-off"),
        pytest.param("ftp://dbc-1.cloud.databricks.com", "another scheme", id="scheme"),
        pytest.param("https://10.0.0.5", "an address, not a workspace name", id="private-address"),
    ],
)  # fmt: skip
def test_hosts_off_the_allowlist_are_refused_naming_the_field(host: str, why: str) -> None:
    with pytest.raises(HostNotAllowedError, match=r"spec\.host"):
        allowed_host(host, SUFFIXES, allow_loopback=False)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("http://127.0.0.1:8766", "http://127.0.0.1:8766", id="ipv4"),
        pytest.param("http://127.1.2.3:8766/", "http://127.1.2.3:8766", id="all-of-127/8"),
        pytest.param("http://localhost:8766", "http://localhost:8766", id="localhost"),
        pytest.param("http://[::1]:8766", "http://[::1]:8766", id="ipv6"),
    ],
)
def test_loopback_is_allowed_only_for_local_development(host: str, expected: str) -> None:
    assert allowed_host(host, SUFFIXES, allow_loopback=True) == expected
    with pytest.raises(HostNotAllowedError, match="ANTHILL_ALLOW_LOOPBACK_HOSTS"):
        allowed_host(host, SUFFIXES, allow_loopback=False)


def test_local_development_still_refuses_foreign_plain_http() -> None:
    with pytest.raises(HostNotAllowedError):
        allowed_host("http://localhost.attacker.example:80", SUFFIXES, allow_loopback=True)


def _spec(auth_type: str = "pat") -> DatabricksConnectionSpec:
    return DatabricksConnectionSpec.model_validate(
        {"host": "https://dbc-1.cloud.databricks.com", "authType": auth_type,
         "credentialsSecretRef": {"name": "creds"}}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("auth_type", "values"),
    [
        pytest.param("pat", {"token": "dapi-first-half\nsecond-half"}, id="line-feed"),
        pytest.param("pat", {"token": "dapi-first-half\r\nX-Injected: second-half"}, id="header-injection"),
        pytest.param("pat", {"token": "dapi-first-half\rsecond-half"}, id="carriage-return"),
        pytest.param("pat", {"token": "dapi-first-half\x00second-half"}, id="nul"),
        pytest.param("pat", {"token": "dapi-first-half\u2028second-half"}, id="non-ascii-line-separator"),
        pytest.param("oauth-m2m", {"client-id": "sp-1", "client-secret": "first-half\nsecond-half"},
                     id="oauth-secret"),
    ],
)  # fmt: skip
def test_a_credential_a_header_cannot_carry_is_refused_naming_the_key(
    auth_type: str, values: dict[str, str]
) -> None:
    with pytest.raises(ConnectionNotReadyError) as caught:
        credentials_from_secret(_spec(auth_type), "team-a", values)
    assert caught.value.reason == cond.INVALID_SECRET
    message = str(caught.value)
    assert "'token'" in message or "'client-secret'" in message
    for part in ("first-half", "second-half", "X-Injected"):
        assert part not in message


def test_a_trailing_line_break_is_not_part_of_the_credential() -> None:
    assert credentials_from_secret(_spec(), "team-a", {"token": "dapi-abc\n"}).token == "dapi-abc"


def test_a_binary_key_is_named_as_unusable() -> None:
    with pytest.raises(ConnectionNotReadyError, match="'token'") as caught:
        credentials_from_secret(_spec(), "team-a", {}, frozenset({"token"}))
    assert caught.value.reason == cond.INVALID_SECRET


def test_a_missing_key_is_named() -> None:
    with pytest.raises(ConnectionNotReadyError, match="has no 'token'") as caught:
        credentials_from_secret(_spec(), "team-a", {"other": "x"})
    assert caught.value.reason == cond.SECRET_NOT_FOUND


def test_not_readable_says_how_to_opt_in_and_not_whether_it_exists() -> None:
    message = not_readable("team-a", "creds")
    assert "anthill.io/credentials" in message
    assert "not found" not in message
    assert "exist" not in message


def _pipeline(name: str, runtime: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"runtime": runtime}}


def test_pipelines_that_name_a_connection_hold_it() -> None:
    pipelines = [
        _pipeline("b", {"databricks": {"connectionRef": {"name": "dev"}}}),
        _pipeline("a", {"databricks": {"connectionRef": {"name": "dev"}}}),
        _pipeline("other", {"databricks": {"connectionRef": {"name": "prod"}}}),
        _pipeline("spark", {"kubernetes": {"image": "spark"}}),
    ]
    assert referenced_by(pipelines, "dev") == ["a", "b"]
    assert referenced_by(pipelines, "unused") == []
