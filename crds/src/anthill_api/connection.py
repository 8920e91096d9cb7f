"""DatabricksConnection: a workspace host and the Secret holding its credentials."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from anthill_api.common import (
    DNS_SUBDOMAIN,
    KEY_NAME,
    VOLUME_PATH,
    Condition,
    Model,
    cel,
    conditions_field,
    printer_columns_common,
)


class CredentialsSecretRef(Model):
    """A Secret with either a personal access token or an OAuth machine-to-machine client id and secret."""

    name: str = Field(
        description="Name of the Secret, in the same namespace.", max_length=253, pattern=DNS_SUBDOMAIN
    )
    token_key: str = Field(default="token", description="Key of the PAT (authType pat).", pattern=KEY_NAME)
    client_id_key: str = Field(
        default="client-id", description="Key of the OAuth client id.", pattern=KEY_NAME
    )
    client_secret_key: str = Field(
        default="client-secret", description="Key of the OAuth client secret.", pattern=KEY_NAME
    )


class DatabricksConnectionSpec(Model):
    """Desired state of a DatabricksConnection."""

    # Parsed, not prefix-matched: "http://localhost.attacker.example" is not loopback. 127.0.0.0/8 is matched
    # on the whole URL, anchored (a regex on url()'s hostname exceeds the API server's CEL cost budget). The
    # schema admits the shape; which hosts get credentials is the operator's configuration (allowedHosts).
    cel_rules: ClassVar[list[dict[str, str]]] = [
        cel(
            "isURL(self.host) && (url(self.host).getScheme() == 'https' || "
            "url(self.host).getHostname() in ['localhost', '::1'] || "
            "self.host.matches('^http://127([.][0-9]{1,3}){3}(:[0-9]{1,5})?/?$'))",
            "spec.host must be an https:// URL (plain http only on a loopback host: 127.0.0.0/8, ::1, localhost)",
            ".host",
        ),
    ]
    host: str = Field(
        description="Workspace URL, e.g. https://dbc-1234.cloud.databricks.com: scheme and host (and port) "
        "only. The operator sends the credentials only to hosts its configuration allows "
        "(databricks.allowedHosts).",
        max_length=300,  # https:// + a 253-character DNS name + a port
        pattern=r"^https?://[^\s/?#@\\]+/?$",
    )
    auth_type: Literal["pat", "oauth-m2m"] = Field(default="pat", description="pat or oauth-m2m.")
    credentials_secret_ref: CredentialsSecretRef = Field(description="Secret with the credentials.")
    wheel_volume: str | None = Field(
        default=None,
        max_length=300,
        pattern=VOLUME_PATH,
        description="Unity Catalog volume (/Volumes/<catalog>/<schema>/<volume>) where `anthill databricks "
        "deploy` puts the anthill-spark wheel for this workspace. Pipelines that name no wheel install the one "
        "deployed for the operator's version (overrides the operator's databricks.wheelVolume).",
    )


class DatabricksConnectionStatus(Model):
    """Observed state of a DatabricksConnection."""

    observed_generation: int | None = Field(default=None, description="metadata.generation last checked.")
    conditions: list[Condition] = conditions_field("Ready: the credentials work.")
    workspace_id: int | None = Field(default=None, description="Workspace id the credentials reach.")
    principal: str | None = Field(
        default=None, description="The user or service principal the credentials act as."
    )


DATABRICKSCONNECTION_PRINTER_COLUMNS: list[dict[str, Any]] = [
    *printer_columns_common(),
    {"name": "Host", "type": "string", "jsonPath": ".spec.host"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]
