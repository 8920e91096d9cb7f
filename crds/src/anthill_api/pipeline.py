"""MedallionPipeline: how bronze is refined into silver and gold, on Databricks or as a Kubernetes Spark job."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from anthill_api.common import (
    CRON,
    DNS_SUBDOMAIN,
    IANA_TIME_ZONE,
    Condition,
    LocalObjectReference,
    Model,
    Resources,
    cel,
    conditions_field,
    printer_columns_common,
)
from anthill_api.runtime import DATABRICKS_RUNTIME

GoldTable = Literal[
    "daily_returns",
    "volatility",
    "moving_averages",
    "drawdowns",
    "yearly_performance",
    "anomalies",
    "market_breadth",
    "news_counts",
    "intraday_bars",
    "spreads",
]
ManagementPolicy = Literal["*", "Observe", "Create", "Update", "Delete", "LateInitialize"]
ALL_GOLD_TABLES: list[GoldTable] = [
    "daily_returns",
    "volatility",
    "moving_averages",
    "drawdowns",
    "yearly_performance",
    "anomalies",
    "market_breadth",
]
FULL_MANAGEMENT: list[ManagementPolicy] = ["*"]
UC_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]{0,254}$"
LAKE_URI = (
    r"^(s3a?://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[^\s]*)?|file:///[^\s]*|abfss://[^\s]+|dbfs:/[^\s]*)$"
)
# An image reference as container runtimes parse it: [registry[:port]/]path[:tag][@digest], the path lowercase.
_IMAGE_COMPONENT = r"[a-z0-9]+([._-]+[a-z0-9]+)*"
IMAGE = (
    rf"^([a-zA-Z0-9.-]+(:[0-9]+)?/)?{_IMAGE_COMPONENT}(/{_IMAGE_COMPONENT})*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,})?$"
)
# Where Databricks installs a wheel library from; it must be a .whl file.
WHEEL = r"^(/Volumes/|/Workspace/|dbfs:/|s3://|abfss://|gs://)[^\s]+\.whl$"
# Cron with both day of month (field 3) and day of week (field 5) restricted: "either day" has no Quartz form.
BOTH_DAYS = r"^\\S+\\s+\\S+\\s+([^*?\\s]\\S*|[*?]\\S+)\\s+\\S+\\s+([^*?\\s]\\S*|[*?]\\S+)$"


class FeedRef(Model):
    """A MarketFeed or MarketStream in the same namespace whose bronze output this pipeline reads."""

    name: str = Field(
        description="Name of the MarketFeed (or MarketStream).", max_length=253, pattern=DNS_SUBDOMAIN
    )
    kind: Literal["MarketFeed", "MarketStream"] | None = Field(
        default=None,
        description="MarketFeed (when not set) or MarketStream: a stream's trades and quotes refine into "
        "silver.trades and silver.quotes.",
    )

    @property
    def is_stream(self) -> bool:
        return self.kind == "MarketStream"


class Lake(Model):
    """Where silver and gold Delta tables live when they are path-based (local runs, Kubernetes runtime)."""

    uri: str = Field(
        description="s3://bucket/prefix, file:///path (or abfss://, dbfs:/).",
        max_length=1024,
        pattern=LAKE_URI,
    )


class Catalog(Model):
    """Unity Catalog names for the tables on Databricks: <name>.<silverSchema>.<table>."""

    name: str = Field(description="Catalog name.", pattern=UC_NAME)
    silver_schema: str = Field(default="silver", description="Schema holding silver tables.", pattern=UC_NAME)
    gold_schema: str = Field(default="gold", description="Schema holding gold tables.", pattern=UC_NAME)


class Autoscale(Model):
    """Worker range for an autoscaling job cluster."""

    cel_rules: ClassVar[list[dict[str, str]]] = [
        cel("self.minWorkers <= self.maxWorkers", "minWorkers must not exceed maxWorkers", ".minWorkers")
    ]
    min_workers: int = Field(ge=0, le=1000, description="Fewest workers.")
    max_workers: int = Field(ge=1, le=1000, description="Most workers.")


class Cluster(Model):
    """The shared job cluster both tasks run on."""

    cel_rules: ClassVar[list[dict[str, str]]] = [
        cel(
            "!(has(self.numWorkers) && has(self.autoscale))",
            "set numWorkers or autoscale, not both",
            ".autoscale",
        )
    ]
    spark_version: str | None = Field(
        default=None,
        description=f"Databricks Runtime with Spark 4 (the wheel needs it). Default: {DATABRICKS_RUNTIME}, the "
        "runtime the anthill-spark wheel is built and tested for.",
        max_length=64,
    )
    node_type_id: str = Field(description="Instance type, e.g. m6i.xlarge.", max_length=64)
    num_workers: int | None = Field(default=None, ge=0, le=1000, description="Fixed worker count.")
    autoscale: Autoscale | None = Field(default=None, description="Autoscaling range instead of numWorkers.")
    instance_profile_arn: str | None = Field(
        default=None,
        description="IAM instance profile for S3 access.",
        pattern=r"^arn:aws[a-z-]*:iam::\d{12}:instance-profile/.+$",
    )


class DatabricksRuntime(Model):
    """Run as a Databricks job (python_wheel_task on the anthill-spark wheel)."""

    cel_rules: ClassVar[list[dict[str, str]]] = [
        cel(
            "self.connectionRef.name == oldSelf.connectionRef.name",
            "connectionRef is immutable: the job lives in that workspace; create a new MedallionPipeline",
            ".connectionRef",
        )
    ]
    connection_ref: LocalObjectReference = Field(description="DatabricksConnection in the same namespace.")
    cluster: Cluster = Field(description="Job cluster specification.")
    wheel: str | None = Field(
        default=None,
        max_length=1024,
        pattern=WHEEL,
        description="Location of the anthill-spark wheel: a .whl under /Volumes/, /Workspace/, dbfs:/ or a "
        "cloud store; it must lie under the operator's allowed wheel paths (ANTHILL_ALLOWED_WHEELS).",
    )
    notification_emails: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Addresses told when a run fails.",
        json_schema_extra={"items": {"maxLength": 254, "pattern": r"^[^@\s]+@[^@\s]+$"}},
    )


class KubernetesRuntime(Model):
    """Run as a CronJob with Spark in local mode, for kind and clusters without Databricks."""

    image: str = Field(
        description="The anthill-spark image; its repository must lie under the operator's allowed image "
        "prefixes (ANTHILL_ALLOWED_IMAGES).",
        max_length=512,
        pattern=IMAGE,
    )
    resources: Resources | None = Field(default=None, description="Driver pod resources.")
    service_account_name: str | None = Field(
        default=None,
        description="ServiceAccount the Spark pod runs as (e.g. one bound to an IAM role for the lake's bucket).",
        max_length=253,
        pattern=DNS_SUBDOMAIN,
    )


class Runtime(Model):
    """Exactly one of databricks or kubernetes."""

    cel_rules: ClassVar[list[dict[str, str]]] = [
        cel(
            "has(self.databricks) != has(self.kubernetes)",
            "set exactly one of runtime.databricks and runtime.kubernetes",
            reason="FieldValueInvalid",
        ),
        cel(
            "has(self.databricks) == has(oldSelf.databricks)",
            "the runtime cannot switch between databricks and kubernetes; create a new MedallionPipeline",
            reason="FieldValueForbidden",
        ),
    ]
    databricks: DatabricksRuntime | None = Field(default=None, description="Run on Databricks.")
    kubernetes: KubernetesRuntime | None = Field(default=None, description="Run on this cluster.")


class FeedsLanded(Model):
    """Run once every feed in spec.feeds has landed a watermark other than the one the last such run saw."""


class Trigger(Model):
    """What starts a run other than a schedule."""

    feeds_landed: FeedsLanded | None = Field(
        default=None,
        description="Run when every feed the pipeline names has landed a new watermark: one run per new set "
        "of watermarks (its idempotency key), never two for the same set.",
    )


class MedallionPipelineSpec(Model):
    """Desired state of a MedallionPipeline: bronze from its feeds -> silver -> the selected gold tables."""

    cel_rules: ClassVar[list[dict[str, str]]] = [
        cel(
            "!has(self.runtime.databricks) || has(self.catalog)",
            "spec.catalog is required with the Databricks runtime",
            ".catalog",
            "FieldValueRequired",
        ),
        cel(
            "has(self.schedule) != has(self.trigger)",
            "set exactly one of spec.schedule (a cron) and spec.trigger (runs when the feeds land)",
            ".schedule",
            "FieldValueRequired",
        ),
        cel(
            "!has(self.trigger) || !has(self.trigger.feedsLanded)"
            " || self.feeds.all(f, !has(f.kind) || f.kind == 'MarketFeed')",
            "trigger.feedsLanded waits for MarketFeeds' watermarks; a pipeline that reads a MarketStream runs "
            "on spec.schedule",
            ".trigger",
        ),
        cel(
            f"!has(self.runtime.databricks) || !has(self.schedule) || !self.schedule.matches('{BOTH_DAYS}')",
            "Databricks cannot run a schedule that restricts both day of month and day of week",
            ".schedule",
        ),
    ]
    feeds: list[FeedRef] = Field(
        min_length=1,
        max_length=100,
        description="MarketFeeds (and MarketStreams) whose destinations are the bronze inputs.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    lake: Lake = Field(description="Where silver and gold live.")
    catalog: Catalog | None = Field(default=None, description="Unity Catalog names (Databricks).")
    gold: list[GoldTable] = Field(
        default=ALL_GOLD_TABLES,
        min_length=1,
        description="Gold tables to build.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    schedule: str | None = Field(
        default=None,
        description="5-field cron or @macro (or set spec.trigger).",
        max_length=128,
        pattern=CRON,
    )
    trigger: Trigger | None = Field(
        default=None, description="Run on an event instead of a schedule: trigger.feedsLanded."
    )
    time_zone: str | None = Field(
        default=None, description="IANA time zone of the schedule.", max_length=64, pattern=IANA_TIME_ZONE
    )
    suspend: bool = Field(default=False, description="Pause the schedule.")
    runtime: Runtime = Field(description="Where the Spark jobs run.")
    management_policies: list[ManagementPolicy] = Field(
        default=FULL_MANAGEMENT,
        description="Crossplane semantics: ['*'] manages fully; ['Observe'] adopts an existing job read-only.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    deletion_policy: Literal["Delete", "Orphan"] = Field(
        default="Delete", description="Delete removes the external job with the pipeline; Orphan leaves it."
    )


class LastPipelineRun(Model):
    """The most recent run of the external job."""

    run_id: int | None = Field(default=None, description="Databricks run id.")
    state: str | None = Field(default=None, description="Life-cycle state, e.g. RUNNING, TERMINATED.")
    result_state: str | None = Field(default=None, description="SUCCESS, FAILED, ...")
    start_time: datetime.datetime | None = Field(default=None, description="When the run started.")
    end_time: datetime.datetime | None = Field(default=None, description="When the run ended.")
    message: str | None = Field(
        default=None,
        max_length=256,
        description="Why a run that did not succeed ended: the failed task and the first line of its error.",
    )


class LandedRun(Model):
    """A run started because every feed landed a new watermark."""

    token: str = Field(description="Idempotency key of the run: a hash of the pipeline and the watermarks.")
    watermarks: dict[str, str] = Field(description="Each feed's status.watermark the run was started for.")
    run: str = Field(description="The Databricks run id, or the Kubernetes Job's name.")
    started_at: datetime.datetime = Field(description="When the operator started it.")


class AtProvider(Model):
    """What was observed in the external system."""

    job_id: int | None = Field(default=None, description="Databricks job id.")
    job_url: str | None = Field(default=None, description="Link to the job.")
    owned: bool | None = Field(
        default=None,
        description="Whether the job is this pipeline's own (tagged anthill.io/pipeline: <namespace>/<name>, "
        "or created by it): only its own job is reset, run or deleted.",
    )
    last_run: LastPipelineRun | None = Field(default=None, description="The most recent run.")
    run_now_token: str | None = Field(
        default=None, description="The anthill.io/run-now annotation value last acted on.", max_length=64
    )
    last_run_now: int | None = Field(default=None, description="Run id the last run-now request started.")
    drift_corrected_at: datetime.datetime | None = Field(
        default=None,
        description="When the job was last reset because its settings had drifted from the spec.",
    )
    cron_job_name: str | None = Field(default=None, description="The owned CronJob (Kubernetes runtime).")
    last_landed: LandedRun | None = Field(
        default=None, description="The last run trigger.feedsLanded started, and the watermarks it was for."
    )


class MedallionPipelineStatus(Model):
    """Observed state of a MedallionPipeline."""

    observed_generation: int | None = Field(default=None, description="metadata.generation last reconciled.")
    conditions: list[Condition] = conditions_field("Ready and Synced.")
    at_provider: AtProvider | None = Field(default=None, description="Observed external state.")


MEDALLIONPIPELINE_PRINTER_COLUMNS: list[dict[str, Any]] = [
    *printer_columns_common(),
    {"name": "Schedule", "type": "string", "jsonPath": ".spec.schedule"},
    {
        "name": "External Name",
        "type": "string",
        "jsonPath": ".metadata.annotations.anthill\\.io/external-name",
    },
    {"name": "Last Run", "type": "string", "jsonPath": ".status.atProvider.lastRun.resultState"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]
