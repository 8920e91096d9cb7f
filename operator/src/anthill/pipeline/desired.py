"""What Databricks job a MedallionPipeline should have: one job, bronze_to_silver -> silver_to_gold.

Pure: no client, no environment, no clock. The result is the SDK's own ``JobSettings``, what ``jobs.create`` and
``jobs.reset`` take, so nothing sits between the builder and the wire format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anthill_api.lake import bronze_uri
from anthill_api.pipeline import ALL_GOLD_TABLES, Cluster, MedallionPipelineSpec
from anthill_api.runtime import DATABRICKS_RUNTIME

if TYPE_CHECKING:
    from databricks.sdk.service import compute, jobs

PIPELINE_TAG = "anthill.io/pipeline"
MANAGED_BY_TAG = "managed-by"
MANAGED_BY = "anthill"
JOB_CLUSTER_KEY = "anthill"
WHEEL_PACKAGE = "anthill_spark"
BRONZE_TO_SILVER = "bronze_to_silver"
SILVER_TO_GOLD = "silver_to_gold"
CRON_FIELDS = 5
# Cron's predefined schedules, spelled out so they can become Quartz expressions.
CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Cron numbers days 0-7 from Sunday (0 and 7 both Sunday); Quartz numbers them 1-7. Names mean the same in both.
WEEKDAYS = {"0": "SUN", "1": "MON", "2": "TUE", "3": "WED", "4": "THU", "5": "FRI", "6": "SAT", "7": "SUN"}
# Databricks runs a job cluster without workers only when it is told it is a single-node cluster.
SINGLE_NODE_CONF = {"spark.databricks.cluster.profile": "singleNode", "spark.master": "local[*, 4]"}
SINGLE_NODE_TAGS = {"ResourceClass": "SingleNode"}


@dataclass(frozen=True)
class ClusterPlatform:
    """What the platform team sets on every job cluster, whatever the pipeline says: the cluster policy (whose
    defaults fill what the spec leaves out) and the access mode."""

    policy_id: str = ""
    data_security_mode: str = "SINGLE_USER"


class UnsupportedScheduleError(ValueError):
    """A cron schedule Databricks' Quartz scheduler cannot express (the message says why)."""


@dataclass(frozen=True)
class Pipeline:
    """A parsed MedallionPipeline: identity plus the validated spec."""

    name: str
    namespace: str
    spec: MedallionPipelineSpec
    uid: str = ""
    generation: int | None = None
    # The bronze location of each feed in spec.feeds, in its order: what silver reads and nothing else.
    bronze: tuple[str, ...] = ()
    # Each feed's status.watermark, in spec.feeds order (None: nothing landed yet): what trigger.feedsLanded
    # compares with the watermarks of the last run it started.
    watermarks: tuple[tuple[str, str | None], ...] = ()

    @property
    def key(self) -> str:
        """``<namespace>/<name>``: the value of the job's ``anthill.io/pipeline`` tag and the job's name."""
        return f"{self.namespace}/{self.name}"


def bronze_locations(
    namespace: str, spec: MedallionPipelineSpec, destinations: Mapping[str, str]
) -> tuple[str, ...]:
    """The bronze location of each feed ``spec.feeds`` names, from ``destinations`` (feed name ->
    its ``spec.destination.uri``): ``<destination>/bronze/<namespace>/<feed>``."""
    return tuple(bronze_uri(destinations[ref.name], namespace, ref.name) for ref in spec.feeds)


def bronze_parameters(pipeline: Pipeline) -> list[str]:
    """``--bronze <location>`` for each feed the pipeline reads; ``ValueError`` when they are not resolved."""
    if not pipeline.bronze:
        raise ValueError(
            f"MedallionPipeline {pipeline.key}: the bronze locations of its feeds are not resolved"
        )
    return [argument for location in pipeline.bronze for argument in ("--bronze", location)]


def quartz_cron(schedule: str) -> str:
    """A 5-field cron expression (or @macro) as Databricks' 6-field Quartz expression, firing at second 0.

    Quartz needs ``?`` in one of day-of-month and day-of-week; cron's "either day matches" when both are set
    has no Quartz form and raises :class:`UnsupportedScheduleError`.
    """
    fields = CRON_MACROS.get(schedule, schedule).split()
    if len(fields) != CRON_FIELDS:
        raise UnsupportedScheduleError(f"schedule {schedule!r} is not a 5-field cron expression")
    minute, hour, day_of_month, month, day_of_week = fields
    day_of_week = _quartz_weekdays(day_of_week)
    if day_of_week in ("*", "?"):
        day_of_week = "?"
        if day_of_month == "?":
            day_of_month = "*"
    elif day_of_month in ("*", "?"):
        day_of_month = "?"
    else:
        raise UnsupportedScheduleError(
            f"schedule {schedule!r} restricts both day of month and day of week, which Databricks cannot run"
        )
    return f"0 {minute} {hour} {day_of_month} {month.upper()} {day_of_week}"


def _quartz_weekdays(field: str) -> str:
    """Day-of-week numbers as names (``1-5`` -> ``MON-FRI``); steps, ``*`` and names pass through."""
    base, slash, step = field.partition("/")
    parts = []
    for item in base.split(","):
        parts.append("-".join(WEEKDAYS.get(bound, bound.upper()) for bound in item.split("-")))
    return ",".join(parts) + (f"/{step}" if slash else "")


def _cluster_spec(cluster: Cluster, platform: ClusterPlatform) -> compute.ClusterSpec:
    from databricks.sdk.service import compute  # noqa: PLC0415 - see desired_job_settings

    spec = compute.ClusterSpec(
        spark_version=cluster.spark_version or DATABRICKS_RUNTIME,
        node_type_id=cluster.node_type_id,
        data_security_mode=compute.DataSecurityMode(platform.data_security_mode),
    )
    if platform.policy_id:
        spec.policy_id = platform.policy_id
        spec.apply_policy_default_values = True
    if cluster.autoscale is not None:
        spec.autoscale = compute.AutoScale(
            min_workers=cluster.autoscale.min_workers, max_workers=cluster.autoscale.max_workers
        )
    elif cluster.num_workers:
        spec.num_workers = cluster.num_workers
    else:
        spec.num_workers = 0
        spec.spark_conf = dict(SINGLE_NODE_CONF)
        spec.custom_tags = dict(SINGLE_NODE_TAGS)
    if cluster.instance_profile_arn is not None:
        spec.aws_attributes = compute.AwsAttributes(instance_profile_arn=cluster.instance_profile_arn)
    return spec


def job_parameters(spec: MedallionPipelineSpec) -> list[str]:
    """The arguments both entry points share: where the lake is and which Unity Catalog names to use."""
    parameters = ["--lake", spec.lake.uri]
    if spec.catalog is not None:
        parameters += [
            "--catalog",
            spec.catalog.name,
            "--silver-schema",
            spec.catalog.silver_schema,
            "--gold-schema",
            spec.catalog.gold_schema,
        ]
    return parameters


def gold_tables(spec: MedallionPipelineSpec) -> str:
    """``spec.gold`` is a set: its tables in the canonical order, so reordering the list is not a change."""
    return ",".join(table for table in ALL_GOLD_TABLES if table in spec.gold)


def _task(task_key: str, parameters: list[str], wheel: str, depends_on: str | None = None) -> jobs.Task:
    from databricks.sdk.service import compute, jobs  # noqa: PLC0415 - see desired_job_settings

    return jobs.Task(
        task_key=task_key,
        job_cluster_key=JOB_CLUSTER_KEY,
        python_wheel_task=jobs.PythonWheelTask(
            package_name=WHEEL_PACKAGE, entry_point=task_key, parameters=parameters
        ),
        libraries=[compute.Library(whl=wheel)],
        depends_on=[jobs.TaskDependency(task_key=depends_on)] if depends_on else None,
    )


def desired_job_settings(
    pipeline: Pipeline, default_wheel: str, platform: ClusterPlatform | None = None
) -> jobs.JobSettings:
    """The job ``pipeline`` should have on Databricks.

    ``default_wheel`` is the anthill-spark wheel used when ``spec.runtime.databricks.wheel`` is unset;
    ``platform`` what every job cluster carries (the policy and access mode). Raises
    :class:`UnsupportedScheduleError` for a schedule Quartz cannot express and ``ValueError`` when the spec has
    no Databricks runtime.

    The SDK is imported here, not with the module: the operator loads it only once a Databricks pipeline
    exists (see :mod:`anthill.pipeline.jobs`).
    """
    from databricks.sdk.service import jobs  # noqa: PLC0415

    spec = pipeline.spec
    runtime = spec.runtime.databricks
    if runtime is None:
        raise ValueError(f"MedallionPipeline {pipeline.key} has no Databricks runtime")
    wheel = runtime.wheel or default_wheel
    parameters = job_parameters(spec)
    return jobs.JobSettings(
        name=pipeline.key,
        tags={PIPELINE_TAG: pipeline.key, MANAGED_BY_TAG: MANAGED_BY},
        max_concurrent_runs=1,
        schedule=(
            jobs.CronSchedule(
                quartz_cron_expression=quartz_cron(spec.schedule),
                timezone_id=spec.time_zone or "UTC",
                pause_status=jobs.PauseStatus.PAUSED if spec.suspend else jobs.PauseStatus.UNPAUSED,
            )
            if spec.schedule
            else None  # trigger.feedsLanded: the operator starts each run
        ),
        job_clusters=[
            jobs.JobCluster(
                job_cluster_key=JOB_CLUSTER_KEY,
                new_cluster=_cluster_spec(runtime.cluster, platform or ClusterPlatform()),
            )
        ],
        tasks=[
            _task(BRONZE_TO_SILVER, [*parameters, *bronze_parameters(pipeline)], wheel),
            _task(
                SILVER_TO_GOLD, [*parameters, "--gold", gold_tables(spec)], wheel, depends_on=BRONZE_TO_SILVER
            ),
        ],
        email_notifications=(
            jobs.JobEmailNotifications(on_failure=list(runtime.notification_emails))
            if runtime.notification_emails
            else None
        ),
    )
