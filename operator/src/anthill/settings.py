"""Operator settings, read once from the environment (``ANTHILL_*``)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from anthill.allowlist import check_entries
from anthill_api.common import VOLUME_PATH

DATABRICKS_HOSTS = (".cloud.databricks.com", ".azuredatabricks.net", ".gcp.databricks.com")
# A DNS name with at least two labels, optionally written with the leading dot of a suffix.
HOST_SUFFIX = re.compile(r"\.?([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}")
URL_OR_EMPTY = r"^(https?://[^\s/?#@]+(/[^\s?#@]*)?)?$"  # no credentials, query or fragment
WS_URL_OR_EMPTY = r"^(wss?://[^\s/?#@]+/?)?$"  # a host (and port) only: the client appends the market
# An s3:// bucket or a file:// path, optionally with {namespace} in the path; no query or fragment.
# Databricks' access modes that give a job cluster Unity Catalog (the legacy modes do not).
DataSecurityMode = Literal["SINGLE_USER", "USER_ISOLATION"]
LAKE_PREFIX = r"^((s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]|file://)(/[^\s?#]*)?)?$"


class OperatorSettings(BaseSettings):
    """What the operator needs to know that is not in any resource."""

    model_config = SettingsConfigDict(env_prefix="ANTHILL_", frozen=True, extra="ignore")

    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Namespaces to watch, comma-separated (ANTHILL_NAMESPACES=a,b). Empty: the whole cluster.",
    )
    ingest_image: str = Field(
        default="ghcr.io/anthill-platform/anthill-ingest:0.1.0",
        description="Image the MarketFeed CronJobs and MarketStream Deployments run.",
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(
        default="IfNotPresent", description="Pull policy of the ingest container."
    )
    market_data_url: str = Field(
        default="",
        max_length=1024,
        pattern=URL_OR_EMPTY,
        description="Market-data API base URL the ingest pods use (empty: Massive's own).",
    )
    market_stream_url: str = Field(
        default="",
        max_length=1024,
        pattern=WS_URL_OR_EMPTY,
        description="Market-data WebSocket URL the MarketStream pods use, ws://host:port or wss://host "
        "(empty: Massive's real-time feed).",
    )
    s3_endpoint_url: str = Field(
        default="",
        max_length=1024,
        pattern=URL_OR_EMPTY,
        description="S3 API endpoint of the lake for the ingest and Spark pods (empty: AWS S3), for "
        "S3-compatible stores.",
    )
    s3_region: str = Field(
        default="", max_length=64, description="AWS region the workload pods use (empty: the chain's)."
    )
    s3_credentials_secret: str = Field(
        default="",
        max_length=253,
        pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$",
        description="Secret in each workload's own namespace with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "for the lake, where there is no IAM role (empty: the credential chain, e.g. IRSA).",
    )
    lake_prefix: str = Field(
        default="",
        max_length=1024,
        pattern=LAKE_PREFIX,
        description="Where each namespace's lake must lie: a URI template with {namespace}, e.g. "
        "s3://anthill-lake-prod/{namespace}/ (empty: no restriction). MarketFeed spec.destination.uri and "
        "MedallionPipeline spec.lake.uri outside it are refused with Ready=False, InvalidSpec.",
    )
    drift_interval: float = Field(
        default=60.0, gt=0, description="Seconds between drift checks of every owned object."
    )
    drift_workers: int = Field(
        default=4,
        ge=1,
        le=32,
        description="Objects a drift pass checks at once, in threads of its own: event handlers keep kopf's.",
    )
    secret_retry: float = Field(
        default=15.0, gt=0, description="Seconds between checks for a missing API-key Secret."
    )
    spark_wheel: str = Field(
        default="/Volumes/anthill/default/wheels/anthill_spark-0.1.0-py3-none-any.whl",
        description="The anthill-spark wheel Databricks jobs install when a pipeline names none and no wheel "
        "volume is configured (ANTHILL_WHEEL_VOLUME, or the DatabricksConnection's spec.wheelVolume).",
    )
    wheel_volume: str = Field(
        default="",
        max_length=300,
        pattern=f"({VOLUME_PATH})|^$",
        description="Unity Catalog volume (/Volumes/<catalog>/<schema>/<volume>) where `anthill databricks "
        "deploy` puts the anthill-spark wheel. Set, jobs of pipelines that name no wheel install the one its "
        "anthill_spark/<operator version>/CURRENT pointer names (a DatabricksConnection's spec.wheelVolume "
        "overrides it per workspace). Empty: ANTHILL_SPARK_WHEEL.",
    )
    allowed_images: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["ghcr.io/anthill-platform"],
        description="Image repository prefixes a Kubernetes-runtime MedallionPipeline may run, comma-separated; "
        "matched on path segments (ghcr.io/anthill-platform allows ghcr.io/anthill-platform/anthill-spark, "
        "not ghcr.io/anthill-platform-evil/x).",
    )
    allowed_wheels: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["/Volumes/anthill/"],
        description="Path prefixes of the wheels a MedallionPipeline may have Databricks install "
        "(spec.runtime.databricks.wheel), comma-separated, matched on path segments.",
    )
    allowed_instance_profiles: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Instance profile ARNs a MedallionPipeline's job cluster may use, comma-separated: exact "
        "ARNs, or prefixes ending in '/'. Empty: none.",
    )
    cluster_policy_id: str = Field(
        default="",
        max_length=64,
        pattern=r"^[A-Za-z0-9-]*$",
        description="Cluster policy every Databricks job cluster names (the innovation stack's "
        "job_cluster_policy_id output); its defaults fill what a pipeline leaves out. Empty: none.",
    )
    data_security_mode: DataSecurityMode = Field(
        default="SINGLE_USER",
        description="Access mode of the job clusters: SINGLE_USER (dedicated to the job's principal, what Unity "
        "Catalog jobs use) or USER_ISOLATION (standard).",
    )
    databricks_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DATABRICKS_HOSTS),
        description="Host suffixes a DatabricksConnection may name, comma-separated "
        "(ANTHILL_DATABRICKS_HOSTS=.cloud.databricks.com,.azuredatabricks.net): a workspace's hostname must "
        "equal one or end in it at a dot. Credentials are sent to no other host.",
    )
    allow_loopback_hosts: bool = Field(
        default=False,
        description="Also allow plain http:// DatabricksConnection hosts on loopback (127.0.0.0/8, ::1, "
        "localhost), for local development against the sandbox Jobs API.",
    )
    connection_check_interval: float = Field(
        default=300.0,
        gt=0,
        description="Seconds between checks that a DatabricksConnection's credentials work.",
    )
    unauthorized_retry: float = Field(
        default=60.0,
        gt=0,
        description="Seconds before a pipeline whose credentials were refused calls Databricks again.",
    )
    backoff_max: float = Field(
        default=60.0, gt=0, description="Longest wait between retries after Databricks failed (5xx)."
    )
    log_format: Literal["json", "text"] = Field(
        default="json", description="Log lines as JSON or plain text."
    )
    heartbeat_interval: float = Field(
        default=300.0,
        ge=0,
        description="Seconds between the operator's Heartbeat log lines, which a log alarm expects (0: none).",
    )
    metrics_port: int = Field(default=9090, ge=0, le=65535, description="Prometheus /metrics port (0: off).")
    health_port: int = Field(default=8080, ge=0, le=65535, description="Liveness /healthz port (0: off).")
    peering: str = Field(
        default="anthill", description="kopf peering name: replicas with the same name elect one active."
    )
    standalone: bool = Field(default=False, description="Skip peering (single replica, local development).")
    priority: int | None = Field(
        default=None,
        ge=0,
        description="Peering priority; the highest live replica acts. Default: random per start.",
    )
    peering_lifetime: int = Field(
        default=60, ge=1, description="Seconds a silent replica counts as alive before another takes over."
    )

    @field_validator(
        "namespaces",
        "databricks_hosts",
        "allowed_images",
        "allowed_wheels",
        "allowed_instance_profiles",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return parse_namespaces(value) if isinstance(value, str) else value

    @field_validator("allowed_images")
    @classmethod
    def _check_images(cls, value: list[str]) -> list[str]:
        return check_entries("image", value)

    @field_validator("allowed_wheels", "allowed_instance_profiles")
    @classmethod
    def _check_prefixes(cls, value: list[str]) -> list[str]:
        return check_entries("path", value)

    @field_validator("databricks_hosts")
    @classmethod
    def _host_suffixes(cls, value: list[str]) -> list[str]:
        for suffix in value:
            if not HOST_SUFFIX.fullmatch(suffix):
                raise ValueError(f"{suffix!r} is not a host suffix such as .cloud.databricks.com")
        return [suffix.lower() for suffix in value]

    @property
    def scopes(self) -> list[str | None]:
        """Where the operator works: each of its namespaces, or None alone for cluster-wide."""
        return [*self.namespaces] or [None]


def parse_namespaces(raw: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in raw.split(",") if part.strip()]
