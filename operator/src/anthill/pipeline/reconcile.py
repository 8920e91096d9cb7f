"""Reconcile MedallionPipelines (a Databricks job, or an owned Spark CronJob).

The Databricks path is Crossplane's managed-resource loop:

1. **Observe.** The job id lives in the ``anthill.io/external-name`` annotation. Without one, an
   ``anthill.io/external-create-pending`` annotation means an earlier create may have reached Databricks
   without its id being recorded (the operator died in between): the job is looked up by its
   ``anthill.io/pipeline`` tag instead of being created twice.
2. **Create** when nothing exists: "create pending" is recorded *before* ``jobs/create`` and the id after. The
   mark is written over the resourceVersion this reconcile read, so it is a lock between replicas: a 409 means
   another writer got there first, and another writer's recent mark holds off a second create.
3. **Update** with ``jobs/reset`` when the job differs from the desired settings in anything they set (server
   defaults are late-initialised, so they never count as a difference). A difference at an unchanged
   generation is drift, someone editing the job in the UI; it is reset and recorded in
   ``status.atProvider.driftCorrectedAt``.
4. **Delete** through the finalizer when ``deletionPolicy`` is ``Delete`` and the management policies allow it.

Only the pipeline's own job (:func:`anthill.pipeline.external.owns`: tagged ``anthill.io/pipeline:
<namespace>/<name>``) is ever reset, run or deleted; an external-name copied from another manifest ends as
``Ready=False, ExternalNotOwned``, or, with Observe-only policies, as a job observed but never written.

``managementPolicies`` follow Crossplane: ``["*"]`` does everything; ``["Observe"]`` adopts an existing job (by
the external-name annotation, else by the job's name ``<namespace>/<name>``) and never writes to it. Each
failure ends as a condition, with the retry it deserves: refused credentials wait
:attr:`OperatorSettings.unauthorized_retry`, a 429 waits its ``Retry-After``, a 400 (Databricks rejected the
settings) is not retried until the spec changes, 5xx back off exponentially.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NoReturn

from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from anthill import conditions as cond
from anthill.allowlist import Allowlists, wheel_refusal
from anthill.children import ChildConflictError, ChildRejectedError, ensure_child, suspend_owned_cronjob
from anthill.kube import CONFLICT, Store
from anthill.marketfeed.observe import latest_job, rfc3339
from anthill.owned import PAUSED_ANNOTATION, is_paused
from anthill.pipeline.compare import needs_update, settings_to_apply
from anthill.pipeline.connections import (
    PIPELINES,
    Connection,
    ConnectionNotReadyError,
    Connections,
    failure_reason,
)
from anthill.pipeline.desired import (
    ClusterPlatform,
    Pipeline,
    UnsupportedScheduleError,
    bronze_locations,
    desired_job_settings,
    quartz_cron,
)
from anthill.pipeline.external import (
    CREATE_PENDING,
    CREATE_SUCCEEDED,
    EXTERNAL_NAME,
    RUN_NOW,
    RUN_NOW_TOKEN_MAX,
    Policies,
    external_id,
    job_url,
    lease_left,
    not_owned_message,
    owns,
    recorded_job,
    run_status,
)
from anthill.pipeline.jobs import (
    FAILED_RESULTS,
    InvalidSpecError,
    JobsClient,
    JobsError,
    ObservedJob,
    ThrottledError,
    UnauthorizedError,
)
from anthill.pipeline.kubernetes import (
    cronjob_name,
    desired_spark_cronjob,
    kubernetes_last_run,
    landed_job,
    owner_reference,
    pipeline_selector,
)
from anthill.pipeline.results import Event, Result, RetryLaterError
from anthill.pipeline.trigger import due, run_token, waiting_for
from anthill.pipeline.wheels import PROJECT, PointerError, parse_pointer, pointer_path, release_version
from anthill.runs import PIPELINE_KIND, FailedRun, RunReporter
from anthill.settings import OperatorSettings
from anthill.status import write_status
from anthill.workload import workload_lake_environment
from anthill_api.errors import describe_validation_error
from anthill_api.lake import prefix_violation
from anthill_api.marketfeed import MarketFeedSpec
from anthill_api.marketstream import MarketStreamSpec
from anthill_api.pipeline import MedallionPipelineSpec

if TYPE_CHECKING:
    from databricks.sdk.service.jobs import JobSettings

PIPELINE_STATUS_KEYS = ("observedGeneration", "conditions", "atProvider")
CONFLICT_RETRY = 1.0  # seconds before observing again after another writer changed the pipeline
PENDING_RETRY = 5.0  # the most seconds between looks for the job another writer is creating
log = logging.getLogger(__name__)


@dataclass
class _Backoff:
    """Databricks said "not now": no calls for this pipeline before ``until`` (monotonic seconds)."""

    until: float
    reason: str
    message: str
    fingerprint: tuple[str, ...] | None = None  # refused credentials: a Secret edit lifts the wait


@dataclass
class PipelineReconciler:
    """Reconciles MedallionPipelines; one instance per operator process."""

    store: Store
    settings: OperatorSettings
    connections: Connections
    clock: Callable[[], datetime.datetime] = field(default=lambda: datetime.datetime.now(datetime.UTC))
    monotonic: Callable[[], float] = time.monotonic
    _locks: defaultdict[tuple[str, str], threading.Lock] = field(
        default_factory=lambda: defaultdict(threading.Lock)
    )
    _backoff: dict[str, _Backoff] = field(default_factory=dict)
    _rejected: dict[str, int | None] = field(default_factory=dict)  # uid -> the generation Databricks refused
    _pending: dict[str, str] = field(default_factory=dict)  # uid -> the "create pending" mark this one wrote
    runs: RunReporter = field(default_factory=RunReporter)

    @property
    def _platform(self) -> ClusterPlatform:
        return ClusterPlatform(self.settings.cluster_policy_id, self.settings.data_security_mode)

    # -- entry points -------------------------------------------------------------------------------------

    def reconcile(self, body: dict[str, Any]) -> Result:
        """Bring the pipeline's job or CronJob in line with its spec and write its status.

        Reads the pipeline again under its lock: a handler and the poll timer may run at once, and the body
        kopf hands over can predate an annotation the other one just wrote. Raises :class:`RetryLaterError`.
        """
        meta = body["metadata"]
        with self._locks[(meta["namespace"], meta["name"])]:
            fresh = self.store.get_custom(PIPELINES, meta["namespace"], meta["name"])
            if fresh is None or fresh["metadata"].get("deletionTimestamp") or is_paused(fresh["metadata"]):
                return Result("Gone")
            return self._reconcile(fresh)

    def reconcile_by_name(self, namespace: str, name: str) -> Result:
        """For events on an owned CronJob or its Jobs."""
        return self.reconcile({"metadata": {"namespace": namespace, "name": name}})

    def feed_landed(self, namespace: str, feed: str) -> list[tuple[dict[str, Any], Result]]:
        """A feed's status changed: reconcile the pipelines that run when their feeds land and name it (each
        starts a run only if every one of its feeds has a new watermark)."""
        results = []
        for pipeline in self.store.list_custom(PIPELINES, namespace):
            spec = pipeline.get("spec") or {}
            waits = "feedsLanded" in (spec.get("trigger") or {})
            if waits and any(ref.get("name") == feed for ref in spec.get("feeds") or []):
                results.append((pipeline, self.reconcile(pipeline)))
        return results

    def delete(self, body: dict[str, Any]) -> Result:
        """Remove the external job when the policies say so; raises :class:`RetryLaterError` if it cannot."""
        meta = body["metadata"]
        with self._locks[(meta["namespace"], meta["name"])]:
            fresh = self.store.get_custom(PIPELINES, meta["namespace"], meta["name"]) or body
            result = self._delete(fresh)
        self._forget(meta.get("uid", ""))
        self.runs.forget(PIPELINE_KIND, meta["namespace"], meta["name"], meta.get("uid", ""))
        return result

    def mark_paused(self, body: dict[str, Any]) -> Result:
        generation = body["metadata"].get("generation")
        message = f"reconciliation is paused by the {PAUSED_ANNOTATION} annotation"
        update = [cond.condition(cond.SYNCED, False, cond.RECONCILE_PAUSED, message, generation)]
        return Result(cond.RECONCILE_PAUSED, self._status(body, {}, update, keep_others=True))

    # -- the loop -----------------------------------------------------------------------------------------

    def _reconcile(self, body: dict[str, Any]) -> Result:
        meta = body["metadata"]
        generation = meta.get("generation")
        try:
            spec = MedallionPipelineSpec.model_validate(body.get("spec") or {})
        except ValidationError as exc:
            return self._invalid(body, describe_validation_error(exc))
        refusal = self._allowlists().pipeline_refusal(spec)
        if refusal is not None:
            return self._refused_by_policy(body, spec, refusal)
        pipeline = Pipeline(meta["name"], meta["namespace"], spec, meta["uid"], generation)
        outside = prefix_violation(
            self.settings.lake_prefix, pipeline.namespace, "spec.lake.uri", spec.lake.uri
        )
        if outside is not None:
            return self._refused_by_policy(body, spec, outside)
        feeds = self._feed_destinations(body, pipeline)
        if isinstance(feeds, str):
            return self._refused_by_policy(body, spec, feeds)
        destinations, watermarks = feeds
        pipeline = replace(
            pipeline,
            bronze=bronze_locations(pipeline.namespace, spec, destinations),
            watermarks=tuple(watermarks.items()),
        )
        if spec.runtime.kubernetes is not None:
            return self._reconcile_kubernetes(body, pipeline)
        return self._reconcile_databricks(body, pipeline)

    def _reconcile_databricks(self, body: dict[str, Any], pipeline: Pipeline) -> Result:
        meta = body["metadata"]
        generation = pipeline.generation
        spec = pipeline.spec
        try:
            desired = desired_job_settings(pipeline, self.settings.spark_wheel, self._platform)
            job_id = external_id(meta.get("annotations") or {})
        except (UnsupportedScheduleError, ValueError) as exc:
            return self._invalid(body, str(exc))
        if pipeline.uid in self._rejected and self._rejected[pipeline.uid] == generation:
            return Result(cond.INVALID_SPEC)  # Databricks refused this generation; a spec edit retries
        self._rejected.pop(pipeline.uid, None)
        runtime = spec.runtime.databricks
        if runtime is None:  # the CRD's CEL rule makes one runtime required
            return self._invalid(body, "set exactly one of runtime.databricks and runtime.kubernetes")
        connection: Connection | None = None
        try:
            connection = self.connections.resolve(pipeline.namespace, runtime.connection_ref.name)
            self._check_backoff(pipeline.uid, connection)
            wheel = self._deployed_wheel(body, pipeline, connection)
            if wheel is not None:
                desired = desired_job_settings(pipeline, wheel, self._platform)
            return self._reconcile_job(body, pipeline, connection, desired, job_id)
        except _WheelRefusedError as exc:
            return self._invalid(body, str(exc))
        except ConnectionNotReadyError as exc:
            self._not_synced(body, exc.reason, str(exc), ready_if_unset=True)
            raise RetryLaterError(exc.reason, str(exc), self.settings.secret_retry) from exc
        except InvalidSpecError as exc:
            self._rejected[pipeline.uid] = generation
            return self._invalid(body, str(exc))
        except UnauthorizedError as exc:
            fingerprint = connection.fingerprint if connection is not None else None
            self._defer(
                body, pipeline, cond.UNAUTHORIZED, str(exc), self.settings.unauthorized_retry, fingerprint
            )
        except ThrottledError as exc:
            self._defer(body, pipeline, cond.THROTTLED, str(exc), exc.retry_after)
        except JobsError as exc:
            self._not_synced(body, cond.RECONCILE_ERROR, str(exc), ready_if_unset=True)
            raise RetryLaterError(cond.RECONCILE_ERROR, str(exc)) from exc

    def _deployed_wheel(self, body: dict[str, Any], pipeline: Pipeline, connection: Connection) -> str | None:
        """The wheel ``anthill databricks deploy`` put in the workspace's volume for the operator's version, when
        the pipeline names none and a volume is configured (the connection's ``spec.wheelVolume``, else
        ``ANTHILL_WHEEL_VOLUME``); None otherwise (``ANTHILL_SPARK_WHEEL`` applies). No pointer yet: Ready=False,
        WheelNotDeployed, and a look again later. A pointer outside the allowed wheel paths is refused as a
        pipeline's own wheel would be: the volume is a tenant's to name."""
        runtime = pipeline.spec.runtime.databricks
        volume = connection.wheel_volume or self.settings.wheel_volume
        if runtime is None or runtime.wheel is not None or not volume:
            return None
        release = release_version()
        pointer = pointer_path(volume, release)
        content = connection.client.read_file(pointer)
        try:
            if content is None:
                raise PointerError(
                    f"no {PROJECT} {release} wheel deployed in {volume} ({pointer} not found); run "
                    f"`anthill databricks deploy --volume {volume}` with the {PROJECT} {release} wheel"
                )
            wheel = parse_pointer(content, volume, release)
        except PointerError as exc:
            self._not_ready(body, cond.WHEEL_NOT_DEPLOYED, str(exc))
            raise RetryLaterError(cond.WHEEL_NOT_DEPLOYED, str(exc), self.settings.secret_retry) from exc
        refusal = wheel_refusal(wheel, self.settings.allowed_wheels)
        if refusal is not None:
            source = (
                f"DatabricksConnection {runtime.connection_ref.name} spec.wheelVolume"
                if connection.wheel_volume
                else "the operator's wheel volume"
            )
            raise _WheelRefusedError(f"{source}: the deployed wheel {refusal}")
        return wheel

    def _reconcile_job(
        self,
        body: dict[str, Any],
        pipeline: Pipeline,
        connection: Connection,
        desired: JobSettings,
        job_id: int | None,
    ) -> Result:
        client = connection.client
        policies = Policies(frozenset(pipeline.spec.management_policies))
        result = Result(cond.AVAILABLE)
        previous = (body.get("status") or {}).get("atProvider") or {}
        at_provider: dict[str, Any] = {
            k: v
            for k, v in previous.items()
            if k in ("runNowToken", "lastRunNow", "driftCorrectedAt", "lastLanded")
        }
        job_id, observed = self._observe(body, pipeline, client, policies, job_id, result)
        if result.reason == cond.JOB_NOT_FOUND:
            return result
        owned = observed is None or owns(pipeline.key, observed, recorded_job(body.get("status") or {}))
        if observed is not None and not owned and (policies.update or policies.delete):
            return self._not_owned(body, pipeline, observed, result)
        differs = observed is not None and needs_update(desired, observed.settings)
        if observed is None or job_id is None:
            job_id = self._create(body, pipeline, client, desired)
            result.events.append(Event("Normal", "CreatedExternal", f"created Databricks job {job_id}"))
            result.writes += 2
        elif policies.update and differs:
            client.reset(job_id, settings_to_apply(desired, observed.settings))
            drifted = (body.get("status") or {}).get("observedGeneration") == pipeline.generation
            if drifted:
                at_provider["driftCorrectedAt"] = rfc3339(self.clock())
                message = f"reset job {job_id}: its settings had drifted from the spec"
                result.events.append(Event("Warning", "DriftCorrected", message))
            log.info("reset job %s of %s (%s)", job_id, pipeline.key, "drift" if drifted else "spec changed")
        if owned:
            self._run_now(body, client, job_id, at_provider, result)
            landed = self._landed(pipeline, at_provider)
            if landed is not None and policies.update:
                token, watermarks = landed
                run = str(client.run_now(job_id, token))
                self._record_landed(pipeline, at_provider, result, token, watermarks, f"run {run}", run)
        at_provider["jobId"] = job_id
        at_provider["owned"] = owned
        at_provider["jobUrl"] = job_url(connection.host, job_id)
        last_run = run_status(client.last_run(job_id)) or previous.get("lastRun")
        if last_run:
            at_provider["lastRun"] = last_run
        mode = (
            "observed (Observe only)" if not policies.update else "paused" if pipeline.spec.suspend else "on"
        )
        message = f"Databricks job {job_id} runs {self._when(pipeline, at_provider)}, {mode}"
        if not policies.update and differs:
            message += "; it differs from the spec, which the management policies do not let the operator fix"
        if observed is not None and not owned:
            message += f"; observed only: {not_owned_message(pipeline.key, observed)}"
        updates = [
            cond.condition(cond.READY, True, cond.AVAILABLE, message, pipeline.generation),
            cond.condition(cond.SYNCED, True, cond.RECONCILE_SUCCESS, "", pipeline.generation),
        ]
        status = {"observedGeneration": pipeline.generation, "atProvider": at_provider}
        result.writes += self._status(body, status, updates)
        self.runs.track(PIPELINE_KIND, pipeline.namespace, pipeline.name)
        shown = at_provider.get("lastRun") or {}
        self.runs.report(failed_run(pipeline, shown, str(shown.get("runId", ""))), failed_key(previous))
        return result

    def _observe(
        self,
        body: dict[str, Any],
        pipeline: Pipeline,
        client: JobsClient,
        policies: Policies,
        job_id: int | None,
        result: Result,
    ) -> tuple[int | None, ObservedJob | None]:
        """The job and its id, or (None, None) when there is none; ``result.reason`` JobNotFound when there
        is none and the policies forbid creating one."""
        annotations: dict[str, str] = body["metadata"].get("annotations") or {}
        observed: ObservedJob | None = None
        if job_id is not None:
            observed = client.get(job_id)
            if observed is None:
                log.info("job %s of %s no longer exists", job_id, pipeline.key)
                result.events.append(Event("Warning", "ExternalDeleted", f"job {job_id} no longer exists"))
        elif annotations.get(CREATE_PENDING):
            job_id, observed = self._recover_pending(body, pipeline, client, result)
        elif not policies.create:
            job_id, observed = self._adopt_by_name(body, pipeline, client, result)
        if observed is None and not policies.create and result.reason != cond.JOB_NOT_FOUND:
            message = f"job {job_id} does not exist and the management policies forbid creating one"
            self._not_found(body, result, message)
        return (job_id, observed) if observed is not None else (None, None)

    def _run_now(
        self,
        body: dict[str, Any],
        client: JobsClient,
        job_id: int,
        at_provider: dict[str, Any],
        result: Result,
    ) -> None:
        """Start one run per new ``anthill.io/run-now`` value (Databricks dedupes by the same token)."""
        token = (body["metadata"].get("annotations") or {}).get(RUN_NOW, "").strip()
        if not token or token == at_provider.get("runNowToken"):
            return
        if len(token) > RUN_NOW_TOKEN_MAX:
            message = f"annotation {RUN_NOW} must be at most {RUN_NOW_TOKEN_MAX} characters"
            result.events.append(Event("Warning", "InvalidRunNow", message))
            return
        at_provider["lastRunNow"] = client.run_now(job_id, token)
        at_provider["runNowToken"] = token
        result.events.append(Event("Normal", "RunStarted", f"run {at_provider['lastRunNow']} started"))

    def _recover_pending(
        self, body: dict[str, Any], pipeline: Pipeline, client: JobsClient, result: Result
    ) -> tuple[int | None, ObservedJob | None]:
        """A create may have happened without its id being recorded: find the job by tag instead.

        Nothing tagged yet and the mark is another writer's (another replica, or this process before a restart):
        its create may still be in flight, so no second create until the mark's lease runs out.
        """
        found = client.find_by_tag(pipeline.key)
        if not found:
            mark = (body["metadata"].get("annotations") or {}).get(CREATE_PENDING, "")
            wait = lease_left(mark, self.clock())
            if self._pending.get(pipeline.uid) != mark and wait > 0:
                message = (
                    f"another writer has been creating the job of {pipeline.key} since {mark}; waiting for it"
                )
                raise RetryLaterError(cond.CREATING, message, min(wait, PENDING_RETRY))
            log.info("no job tagged %s: the pending create never reached Databricks", pipeline.key)
            return None, None
        job_id = found[0]
        if len(found) > 1:
            others = ", ".join(str(i) for i in found[1:])
            result.events.append(Event("Warning", "DuplicateExternal", f"jobs {others} carry the same tag"))
        self._annotate(body, {EXTERNAL_NAME: str(job_id), CREATE_PENDING: None,
                              CREATE_SUCCEEDED: rfc3339(self.clock())})  # fmt: skip
        self._pending.pop(pipeline.uid, None)
        result.writes += 1
        result.events.append(
            Event("Normal", "AdoptedPending", f"found job {job_id} from an interrupted create")
        )
        log.info("recovered job %s of %s after an interrupted create", job_id, pipeline.key)
        return job_id, client.get(job_id)

    def _adopt_by_name(
        self, body: dict[str, Any], pipeline: Pipeline, client: JobsClient, result: Result
    ) -> tuple[int | None, ObservedJob | None]:
        """Observe without Create: an existing job named ``<namespace>/<name>`` becomes this pipeline's."""
        found = client.find_by_name(pipeline.key)
        if len(found) != 1:
            what = "no job is" if not found else f"{len(found)} jobs are"
            message = f"{what} named {pipeline.key!r}; set annotation {EXTERNAL_NAME} to the job id to adopt"
            self._not_found(body, result, message)
            return None, None
        self._annotate(body, {EXTERNAL_NAME: str(found[0])})
        result.writes += 1
        result.events.append(Event("Normal", "Adopted", f"observing existing job {found[0]}"))
        return found[0], client.get(found[0])

    def _create(
        self, body: dict[str, Any], pipeline: Pipeline, client: JobsClient, desired: JobSettings
    ) -> int:
        """Record "create pending", create, record the id. A failure Databricks surely refused clears the mark.

        The mark is a lock: it is written only if the pipeline is unchanged since this reconcile read it. A
        409 means another writer (a second replica) got there first: observe again, and find its job.
        """
        mark = rfc3339(self.clock()) or ""
        try:
            self._annotate(body, {CREATE_PENDING: mark}, body["metadata"].get("resourceVersion"))
        except ApiException as exc:
            if exc.status != CONFLICT:
                raise
            message = f"{pipeline.key} changed while its job was about to be created; observing it again"
            raise RetryLaterError("Conflict", message, CONFLICT_RETRY) from exc
        self._pending[pipeline.uid] = mark
        try:
            job_id = client.create(desired)
        except (InvalidSpecError, UnauthorizedError, ThrottledError):
            self._annotate(body, {CREATE_PENDING: None})  # refused before anything was created
            self._pending.pop(pipeline.uid, None)
            raise
        self._annotate(body, {EXTERNAL_NAME: str(job_id), CREATE_PENDING: None,
                              CREATE_SUCCEEDED: rfc3339(self.clock())})  # fmt: skip
        self._pending.pop(pipeline.uid, None)
        log.info("created job %s for %s", job_id, pipeline.key)
        return job_id

    def _delete(self, body: dict[str, Any]) -> Result:
        meta = body["metadata"]
        try:
            spec = MedallionPipelineSpec.model_validate(body.get("spec") or {})
        except ValidationError:
            return Result("Deleted")  # nothing was ever created from a spec the operator cannot read
        runtime = spec.runtime.databricks
        policies = Policies(frozenset(spec.management_policies))
        if runtime is None:
            return Result("Deleted")  # the owned CronJob goes with the pipeline (garbage collection)
        annotations = meta.get("annotations") or {}
        if spec.deletion_policy == "Orphan" or not policies.delete:
            log.info("leaving job %s of %s/%s (deletionPolicy %s, policies %s)", annotations.get(EXTERNAL_NAME),
                     meta["namespace"], meta["name"], spec.deletion_policy, spec.management_policies)  # fmt: skip
            return Result("Orphaned")
        key = f"{meta['namespace']}/{meta['name']}"
        try:
            job_id = external_id(annotations)
        except ValueError:
            job_id = None
        try:
            connection = self.connections.resolve_for_delete(meta["namespace"], runtime.connection_ref.name)
            targets = [job_id] if job_id is not None else []
            if job_id is None and annotations.get(CREATE_PENDING):
                targets = connection.client.find_by_tag(key)
            targets = [target for target in targets if _owned(connection.client, key, target, body)]
            for target in targets:
                connection.client.delete(target)
                log.info("deleted job %s of %s", target, key)
        except ConnectionNotReadyError as exc:
            if self.store.namespace_terminating(meta["namespace"]):
                return self._orphan_in_terminating_namespace(body, job_id, exc)
            self._cannot_delete(body, exc)
        except JobsError as exc:
            self._cannot_delete(body, exc)
        return Result("Deleted")

    def _orphan_in_terminating_namespace(
        self, body: dict[str, Any], job_id: int | None, exc: ConnectionNotReadyError
    ) -> Result:
        """The namespace is being deleted and took the credentials with it before this process ever built a
        client for them (it started after they were gone): nobody can bring them back, so holding the
        finalizer would only keep the namespace forever. The job is left, loudly, for an admin to delete."""
        meta = body["metadata"]
        what = f"Databricks job {job_id}" if job_id is not None else "the Databricks job (if one was created)"
        message = (
            f"namespace {meta['namespace']} is being deleted and the pipeline's credentials are gone ({exc}): "
            f"{what} is left in the workspace; delete it there"
        )
        log.warning("orphaned %s of %s/%s: %s", what, meta["namespace"], meta["name"], message)
        self.store.post_event(body, "Warning", "ExternalOrphaned", message)
        return Result("Orphaned")

    def _cannot_delete(self, body: dict[str, Any], exc: ConnectionNotReadyError | JobsError) -> NoReturn:
        """Record why the job cannot be deleted yet; raises :class:`RetryLaterError`."""
        meta = body["metadata"]
        reason = failure_reason(exc)
        message = f"cannot delete the job yet: {exc} (set deletionPolicy: Orphan to leave it)"
        update = [cond.condition(cond.READY, False, cond.DELETING, message, meta.get("generation"))]
        update.append(cond.condition(cond.SYNCED, False, reason, str(exc), meta.get("generation")))
        self._status(body, {}, update, keep_others=True)
        delay = exc.retry_after if isinstance(exc, ThrottledError) else None
        raise RetryLaterError(reason, message, delay) from exc

    # -- Kubernetes runtime -------------------------------------------------------------------------------

    def _reconcile_kubernetes(self, body: dict[str, Any], pipeline: Pipeline) -> Result:
        desired = desired_spark_cronjob(pipeline, workload_lake_environment(self.settings))
        desired["metadata"]["ownerReferences"] = [owner_reference(pipeline)]
        name = desired["metadata"]["name"]
        previous = (body.get("status") or {}).get("atProvider") or {}
        try:
            writes, _ = ensure_child(
                desired, self.store.get_cronjob, self.store.create_cronjob, self.store.replace_cronjob
            )
            writes += self._suspend_renamed_cronjob(pipeline, previous.get("cronJobName"), name)
            jobs = self.store.list_jobs(pipeline.namespace, pipeline_selector(pipeline.name))
        except ChildRejectedError as exc:
            return self._invalid(body, str(exc))
        except ChildConflictError as exc:
            message = f"{exc}; rename the pipeline or remove that object"
            self._not_ready(body, cond.CHILD_CONFLICT, message)
            raise RetryLaterError(cond.CHILD_CONFLICT, message, self.settings.secret_retry) from exc
        except ApiException as exc:
            if exc.status == CONFLICT:
                raise RetryLaterError("Conflict", f"CronJob {name} changed concurrently", 1.0) from exc
            message = f"{exc.status} {exc.reason}"
            self._not_synced(body, cond.RECONCILE_ERROR, message, ready_if_unset=True)
            raise RetryLaterError(cond.RECONCILE_ERROR, message) from exc
        at_provider: dict[str, Any] = {"cronJobName": name}
        if "lastLanded" in previous:
            at_provider["lastLanded"] = previous["lastLanded"]
        result = Result(cond.AVAILABLE, writes)
        landed = self._landed(pipeline, at_provider)
        if landed is not None:
            token, watermarks = landed
            job = landed_job(desired, token, watermarks)
            try:
                self.store.create_job(job)
                result.writes += 1
            except ApiException as exc:
                if (
                    exc.status != CONFLICT
                ):  # AlreadyExists: the same watermarks' Job started before; not again
                    raise RetryLaterError(
                        cond.RECONCILE_ERROR, f"Job {job['metadata']['name']}: {exc.reason}"
                    ) from exc
            job_name = job["metadata"]["name"]
            self._record_landed(pipeline, at_provider, result, token, watermarks, f"Job {job_name}", job_name)
            jobs = self.store.list_jobs(pipeline.namespace, pipeline_selector(pipeline.name))
        last_run = kubernetes_last_run(jobs) or previous.get("lastRun")
        if last_run:
            at_provider["lastRun"] = last_run
        suspended = " (suspended)" if pipeline.spec.suspend else ""
        message = f"CronJob {name} runs {self._when(pipeline, at_provider)}{suspended}"
        updates = [
            cond.condition(cond.READY, True, cond.AVAILABLE, message, pipeline.generation),
            cond.condition(cond.SYNCED, True, cond.RECONCILE_SUCCESS, "", pipeline.generation),
        ]
        status = {"observedGeneration": pipeline.generation, "atProvider": at_provider}
        result.writes += self._status(body, status, updates)
        self.runs.track(PIPELINE_KIND, pipeline.namespace, pipeline.name)
        latest = latest_job(jobs)
        if latest is not None and last_run is not None:
            failed = failed_run(pipeline, last_run, latest["metadata"]["name"])
            self.runs.report(failed, failed_key(previous))
        return result

    def _suspend_renamed_cronjob(self, pipeline: Pipeline, recorded: str | None, name: str) -> int:
        """Suspend the CronJob an earlier operator version made under the pipeline's bare name (recorded in
        ``atProvider.cronJobName``), so it does not run beside the renamed one; only if this pipeline controls it.
        The operator never deletes: garbage collection removes it with the pipeline, or `kubectl delete` sooner."""
        if not recorded or recorded == name:
            return 0
        writes = suspend_owned_cronjob(
            self.store.get_cronjob, self.store.replace_cronjob, pipeline.namespace, recorded, pipeline.uid
        )
        if writes:
            log.info("suspended CronJob %s of %s: it now runs as %s", recorded, pipeline.key, name)
        return writes or 0

    def _refused_by_policy(self, body: dict[str, Any], spec: MedallionPipelineSpec, message: str) -> Result:
        """InvalidSpec for a spec the platform's allowlists or lake prefix refuse. A Kubernetes-runtime pipeline's
        CronJob is suspended too: when the platform team narrows a list, what it made before must stop running
        what the list now refuses. An allowed spec resumes it (the CronJob follows ``spec.suspend`` again)."""
        meta = body["metadata"]
        writes: int | None = None
        if spec.runtime.kubernetes is not None:
            name = cronjob_name(meta["name"])
            writes = suspend_owned_cronjob(
                self.store.get_cronjob, self.store.replace_cronjob, meta["namespace"], name, meta["uid"]
            )
            if writes is not None:
                message += f"; CronJob {name} is suspended until the spec is allowed"
            if writes:
                log.warning(
                    "suspended CronJob %s of %s/%s: %s", name, meta["namespace"], meta["name"], message
                )
        result = self._invalid(body, message)
        result.writes += writes or 0
        return result

    # -- trigger.feedsLanded ------------------------------------------------------------------------------

    def _landed(self, pipeline: Pipeline, at_provider: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
        """The token and watermarks of the run trigger.feedsLanded is due to start now, or None."""
        trigger = pipeline.spec.trigger
        if trigger is None or trigger.feeds_landed is None or pipeline.spec.suspend:
            return None
        last = (at_provider.get("lastLanded") or {}).get("watermarks")
        watermarks = due(dict(pipeline.watermarks), last)
        if watermarks is None:
            return None
        return run_token(pipeline.uid, watermarks), watermarks

    def _record_landed(
        self,
        pipeline: Pipeline,
        at_provider: dict[str, Any],
        result: Result,
        token: str,
        watermarks: dict[str, str],
        what: str,
        run: str,
    ) -> None:
        at_provider["lastLanded"] = {
            "token": token, "watermarks": watermarks, "run": run, "startedAt": rfc3339(self.clock()),
        }  # fmt: skip
        landed = ", ".join(f"{feed} {mark}" for feed, mark in watermarks.items())
        result.events.append(Event("Normal", "RunStarted", f"{what} started: every feed landed ({landed})"))
        log.info("%s of %s started: feeds landed %s", what, pipeline.key, landed)

    def _when(self, pipeline: Pipeline, at_provider: dict[str, Any]) -> str:
        """When the pipeline runs, for the Ready message: its schedule, or the feeds a landed run waits for."""
        spec = pipeline.spec
        if spec.schedule is not None:
            cron = quartz_cron(spec.schedule) if spec.runtime.databricks is not None else spec.schedule
            return f"on {cron!r} ({spec.time_zone or 'UTC'})"
        last = (at_provider.get("lastLanded") or {}).get("watermarks")
        waiting = waiting_for(dict(pipeline.watermarks), last)
        return "when every feed lands new data" + (f" (waiting for {', '.join(waiting)})" if waiting else "")

    # -- helpers ------------------------------------------------------------------------------------------

    def _allowlists(self) -> Allowlists:
        settings = self.settings
        return Allowlists(
            settings.allowed_images, settings.allowed_wheels, settings.allowed_instance_profiles
        )

    def _feed_destinations(
        self, body: dict[str, Any], pipeline: Pipeline
    ) -> tuple[dict[str, str], dict[str, str | None]] | str:
        """Each feed ``spec.feeds`` names -> its ``spec.destination.uri``, and -> its ``status.watermark``; or
        the InvalidSpec message for a feed whose destination lies outside the namespace's lake prefix. A missing
        feed is recorded as ``FeedNotFound`` and raises :class:`RetryLaterError`: nothing is created until every
        feed exists."""
        destinations: dict[str, str] = {}
        watermarks: dict[str, str | None] = {}
        missing: list[str] = []
        for index, ref in enumerate(pipeline.spec.feeds):
            is_feed = not ref.is_stream
            kind = "MarketFeed" if is_feed else "MarketStream"
            source = self.store.get_feed(pipeline.namespace, ref.name) if is_feed \
                else self.store.get_stream(pipeline.namespace, ref.name)  # fmt: skip
            model = MarketFeedSpec if is_feed else MarketStreamSpec
            try:
                uri = model.model_validate((source or {}).get("spec") or {}).destination.uri
            except ValidationError:
                missing.append(f"{kind} {ref.name}")  # absent or unreadable: no location to pass
                continue
            field = f"spec.feeds[{index}] ({kind} {ref.name}): its spec.destination.uri"
            outside = prefix_violation(self.settings.lake_prefix, pipeline.namespace, field, uri)
            if outside is not None:
                return outside
            destinations[ref.name] = uri
            watermarks[ref.name] = ((source or {}).get("status") or {}).get("watermark") if is_feed else None
        if missing:
            message = (
                f"{', '.join(missing)} named in spec.feeds not found in namespace "
                f"{pipeline.namespace}; the job is made once every feed exists"
            )
            self._not_ready(body, cond.FEED_NOT_FOUND, message)
            raise RetryLaterError(cond.FEED_NOT_FOUND, message, self.settings.secret_retry)
        return destinations, watermarks

    def _check_backoff(self, uid: str, connection: Connection) -> None:
        wait = self._backoff.get(uid)
        if wait is None:
            return
        remaining = wait.until - self.monotonic()
        new_credentials = wait.fingerprint is not None and wait.fingerprint != connection.fingerprint
        if remaining <= 0 or new_credentials:
            del self._backoff[uid]
            return
        raise RetryLaterError(wait.reason, wait.message, remaining)

    def _defer(
        self,
        body: dict[str, Any],
        pipeline: Pipeline,
        reason: str,
        message: str,
        delay: float,
        fingerprint: tuple[str, ...] | None = None,
    ) -> NoReturn:
        """Call Databricks for this pipeline again only after ``delay`` seconds (or new credentials)."""
        self._backoff[pipeline.uid] = _Backoff(self.monotonic() + delay, reason, message, fingerprint)
        self._not_synced(body, reason, message, ready_if_unset=True)
        raise RetryLaterError(reason, message, delay)

    def _forget(self, uid: str) -> None:
        self._backoff.pop(uid, None)
        self._rejected.pop(uid, None)
        self._pending.pop(uid, None)

    def _annotate(
        self, body: dict[str, Any], annotations: dict[str, str | None], resource_version: str | None = None
    ) -> None:
        """Patch annotations (only over ``resource_version`` when given) and keep ``body`` as stored."""
        meta = body["metadata"]
        stored = self.store.patch_annotations(
            PIPELINES, meta["namespace"], meta["name"], annotations, resource_version
        )
        meta["annotations"] = stored["metadata"].get("annotations") or {}
        meta["resourceVersion"] = stored["metadata"].get("resourceVersion")

    def _invalid(self, body: dict[str, Any], message: str) -> Result:
        return self._not_ready(body, cond.INVALID_SPEC, message)

    def _not_ready(self, body: dict[str, Any], reason: str, message: str) -> Result:
        """Ready=False and Synced=False with ``reason``, other status kept."""
        generation = body["metadata"].get("generation")
        updates = cond.not_ready(reason, message, generation)
        return Result(
            reason, self._status(body, {"observedGeneration": generation}, updates, keep_others=True)
        )

    def _not_owned(
        self, body: dict[str, Any], pipeline: Pipeline, observed: ObservedJob, result: Result
    ) -> Result:
        """The job this pipeline points at is not its own: write nothing to it and say which tag it carries."""
        message = (
            f"{not_owned_message(pipeline.key, observed)}. Remove the {EXTERNAL_NAME} annotation to have a "
            'job of its own created, or set managementPolicies: ["Observe"] to only observe this one'
        )
        refused = self._not_ready(body, cond.EXTERNAL_NOT_OWNED, message)
        result.reason = refused.reason
        result.writes += refused.writes
        return result

    def _not_found(self, body: dict[str, Any], result: Result, message: str) -> Result:
        generation = body["metadata"].get("generation")
        updates = [
            cond.condition(cond.READY, False, cond.JOB_NOT_FOUND, message, generation),
            cond.condition(cond.SYNCED, True, cond.RECONCILE_SUCCESS, "", generation),
        ]
        result.reason = cond.JOB_NOT_FOUND
        result.writes += self._status(body, {"observedGeneration": generation}, updates, keep_others=True)
        return result

    def _not_synced(self, body: dict[str, Any], reason: str, message: str, ready_if_unset: bool) -> None:
        """Synced=False with ``reason``; Ready keeps what it said, or says the same when it said nothing."""
        generation = body["metadata"].get("generation")
        updates = [cond.condition(cond.SYNCED, False, reason, message, generation)]
        conditions = (body.get("status") or {}).get("conditions") or []
        if ready_if_unset and cond.find(conditions, cond.READY) is None:
            updates.append(cond.condition(cond.READY, False, reason, message, generation))
        self._status(body, {}, updates, keep_others=True)

    def _status(
        self,
        body: dict[str, Any],
        status: dict[str, Any],
        updates: list[dict[str, Any]],
        keep_others: bool = False,
    ) -> int:
        return write_status(self.store, PIPELINES, body, status, updates, self.clock(),
                            PIPELINE_STATUS_KEYS, keep_others)  # fmt: skip


def _run_key(last_run: dict[str, Any]) -> str | None:
    """What tells a failed ``lastRun`` from the pipeline's other runs: its run id, else its start (a Kubernetes
    run's lastRun does not name its Job), "" when it records neither; None when it did not fail."""
    if last_run.get("resultState") not in FAILED_RESULTS:
        return None
    return str(last_run.get("runId") or last_run.get("startTime") or "")


def failed_run(pipeline: Pipeline, last_run: dict[str, Any], run: str) -> FailedRun | None:
    """The run ``atProvider.lastRun`` shows (``run`` names it: the Databricks run id, or the Job), when it
    failed."""
    key = _run_key(last_run)
    if key is None or not run:
        return None
    return FailedRun(PIPELINE_KIND, pipeline.namespace, pipeline.name, pipeline.uid, run,
                     str(last_run["resultState"]), str(last_run.get("message") or ""), key)  # fmt: skip


def failed_key(at_provider: dict[str, Any]) -> str | None:
    """The key of the failed run an ``atProvider`` showed, if it showed one."""
    return _run_key(at_provider.get("lastRun") or {}) or None


class _WheelRefusedError(Exception):
    """The deployed wheel lies outside the allowed wheel paths (the message names where the volume came from)."""


def _owned(client: JobsClient, key: str, job_id: int, body: dict[str, Any]) -> bool:
    """Whether deleting the pipeline ``key`` may delete ``job_id``: only its own job (see :func:`owns`)."""
    if owns(key, client.get(job_id), recorded_job(body.get("status") or {})):
        return True
    log.warning("leaving job %s on deletion of %s: it is gone or not this pipeline's", job_id, key)
    return False
