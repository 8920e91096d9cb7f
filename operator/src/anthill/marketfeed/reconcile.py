"""One reconcile path for a MarketFeed: parse, build desired, observe, create/replace, write status.

Create, update, resume, the drift timer and events from the owned CronJob and its Jobs all end here. Every
write is skipped when the observed object already matches, so an idle pass costs reads only.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import ValidationError

from anthill import conditions as cond
from anthill.children import (
    suspend_owned_cronjob,
)
from anthill.kube import Store
from anthill.marketfeed import observe
from anthill.marketfeed.desired import (
    Feed,
    child_name,
    desired_configmap,
    desired_cronjob,
    feed_selector,
    owner_reference,
)
from anthill.marketfeed.observe import rfc3339
from anthill.owned import OwnerReconciler, Read, Result, Turns, Write, actionable, ensure_owned
from anthill.runs import FEED_KIND, FailedRun, RunReporter, record_feed_landing
from anthill.settings import OperatorSettings
from anthill_api.errors import describe_validation_error
from anthill_api.lake import prefix_violation
from anthill_api.marketfeed import MarketFeedSpec

log = logging.getLogger(__name__)
STATUS_KEYS = (
    "observedGeneration",
    "conditions",
    "cronJobName",
    "lastScheduleTime",
    "lastSuccessfulTime",
    "watermark",
    "lastRun",
)


def build_run_status(
    cronjob: dict[str, Any] | None,
    jobs: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    previous: dict[str, Any],
) -> dict[str, Any]:
    """lastScheduleTime, lastSuccessfulTime, lastRun and watermark from the CronJob, its Jobs and their Pods."""
    status: dict[str, Any] = {}
    cron_status = (cronjob or {}).get("status") or {}
    for key in ("lastScheduleTime", "lastSuccessfulTime"):
        stamp = rfc3339(cron_status.get(key)) or previous.get(key)
        if stamp:
            status[key] = stamp
    pods_by_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pod in pods:
        job_name = (pod["metadata"].get("labels") or {}).get("job-name")
        if job_name:
            pods_by_job[job_name].append(pod)
    latest = observe.latest_job(jobs)
    if latest is not None:
        run = observe.build_last_run(latest, pods_by_job.get(latest["metadata"]["name"], []))
        for key in ("startedAt", "finishedAt"):
            if key in run:
                run[key] = rfc3339(run[key])
        status["lastRun"] = run
    elif previous.get("lastRun"):
        status["lastRun"] = previous["lastRun"]  # the Job was pruned by the history limit; keep what we saw
    mark = observe.watermark(jobs, pods_by_job) or previous.get("watermark")
    if mark:
        status["watermark"] = mark
    return status


def failed_run(feed: Feed, run: dict[str, Any] | None, jobs: list[dict[str, Any]]) -> FailedRun | None:
    """The run ``status.lastRun`` shows, when it failed (its Job's reason: the Job may be gone, pruned)."""
    if not run or run.get("result") != "Failed":
        return None
    job = next((j for j in jobs if j["metadata"]["name"] == run["job"]), None)
    reason = observe.failure_reason(job) if job is not None else "Failed"
    return FailedRun(
        FEED_KIND, feed.namespace, feed.name, feed.uid, run["job"], reason, run.get("message", "")
    )


def failed_job(status: dict[str, Any]) -> str | None:
    """The Job a status's lastRun shows failed, if it does."""
    run = status.get("lastRun") or {}
    return run.get("job") if run.get("result") == "Failed" else None


@dataclass
class Reconciler(OwnerReconciler):
    """Reconciles MarketFeeds; one instance per operator process."""

    plural: ClassVar[str] = "marketfeeds"
    status_keys: ClassVar[tuple[str, ...]] = STATUS_KEYS
    child: ClassVar[str] = "CronJob"

    store: Store
    settings: OperatorSettings
    clock: Callable[[], datetime.datetime] = field(default=lambda: datetime.datetime.now(datetime.UTC))
    runs: RunReporter = field(default_factory=RunReporter)
    turns: Turns = field(default_factory=Turns)
    # (namespace, CronJob name) -> the resourceVersion of the CronJob as the last reconcile left it.
    _observed: dict[tuple[str, str], str] = field(default_factory=dict)

    def reconcile(self, body: dict[str, Any]) -> Result:
        """Bring ``body``'s children in line with its spec and write its status.

        Raises :class:`SecretMissingError` (after recording ``SecretNotFound``), :class:`ChildConflictError`
        (after recording ``ChildConflict``: the object in the way may be removed later) and
        :class:`ConflictError`; the caller decides when to retry. An invalid spec, or a child the API server
        refuses as invalid, is recorded and not retried.
        """
        return self.turns.run(body, self._reconcile, self.store.get_feed)

    def reconcile_by_name(self, namespace: str, name: str) -> Result | None:
        """Re-read the feed and reconcile it (for events on its children). None if it is gone or paused."""
        body = self.store.get_feed(namespace, name)
        if body is None or not actionable(body):
            return None
        return self.reconcile(body)

    def forget(self, namespace: str, name: str, uid: str) -> None:
        """The feed is gone: its run memo and metric series go too."""
        self.runs.forget(FEED_KIND, namespace, name, uid)
        self.turns.forget(uid)
        self._observed.pop((namespace, child_name(name)), None)

    def already_seen(self, namespace: str, cronjob: str, resource_version: str | None) -> bool:
        """Whether the CronJob is as the last reconcile of its feed left it: an event for it (the one for the
        CronJob that reconcile created or replaced) has nothing to tell the feed, and refreshing it again
        would only repeat every read."""
        return resource_version is not None and self._observed.get((namespace, cronjob)) == resource_version

    def _reconcile(self, body: dict[str, Any]) -> Result:
        meta = body["metadata"]
        generation = meta.get("generation")
        try:
            spec = MarketFeedSpec.model_validate(body.get("spec") or {})
        except ValidationError as exc:
            message = describe_validation_error(exc)
            updates = cond.not_ready(cond.INVALID_SPEC, message, generation)
            return Result(
                cond.INVALID_SPEC, self._write_status(body, {"observedGeneration": generation}, updates)
            )
        feed = Feed(meta["name"], meta["namespace"], spec, meta["uid"], generation)
        outside = prefix_violation(
            self.settings.lake_prefix, feed.namespace, "spec.destination.uri", spec.destination.uri
        )
        if outside is not None:
            return self._refused_by_policy(body, feed, outside)

        self._require_key_secret(body, feed.namespace, spec.api_key_secret_ref)
        applied = self._applied(body, lambda: self._apply_children(feed), "feed")
        if isinstance(applied, Result):
            return applied
        writes, cronjob, jobs, pods = applied
        name = child_name(feed.name)
        previous = body.get("status") or {}
        status = {
            "observedGeneration": generation,
            "cronJobName": name,
            **build_run_status(cronjob, jobs, pods, previous),
        }
        suspended = " (suspended)" if spec.suspend else ""
        updates = [
            cond.condition(
                cond.READY,
                True,
                cond.AVAILABLE,
                f"CronJob {name} runs on {spec.schedule!r}{suspended}",
                generation,
            ),
            cond.condition(cond.SYNCED, True, cond.RECONCILE_SUCCESS, "", generation),
        ]
        writes += self._write_status(body, status, updates)
        # After the write: a run is reported once its status is stored, so a failed write reports it next time.
        self.runs.track(FEED_KIND, feed.namespace, feed.name)
        self.runs.report(failed_run(feed, status.get("lastRun"), jobs), failed_job(previous))
        landed = (status.get("lastSuccessfulTime"), status.get("watermark"))
        record_feed_landing(feed.namespace, feed.name, *landed, suspended=spec.suspend)
        return Result(cond.AVAILABLE, writes)

    def _apply_children(
        self, feed: Feed
    ) -> tuple[int, dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
        """Create or replace the ConfigMap and CronJob; observe the CronJob, its Jobs and their Pods."""
        configmap_writes, _ = self._ensure(
            desired_configmap(feed),
            feed,
            self.store.get_configmap,
            self.store.create_configmap,
            self.store.replace_configmap,
        )
        cronjob_writes, cronjob = self._ensure(
            desired_cronjob(feed, self.settings),
            feed,
            self.store.get_cronjob,
            self.store.create_cronjob,
            self.store.replace_cronjob,
        )
        # At once, before the event of a CronJob just written can reach already_seen.
        version = ((cronjob or {}).get("metadata") or {}).get("resourceVersion")
        if version:
            self._observed[(feed.namespace, child_name(feed.name))] = version
        writes = configmap_writes + cronjob_writes
        selector = feed_selector(feed.name)
        jobs = self.store.list_jobs(feed.namespace, selector)
        pods = self.store.list_pods(feed.namespace, selector) if jobs else []
        return writes, cronjob, jobs, pods

    def _ensure(self, desired: dict[str, Any], feed: Feed, get: Read, create: Write,
                replace: Write) -> tuple[int, dict[str, Any]]:  # fmt: skip
        """(writes made, the object as the server now holds it)."""
        return ensure_owned(desired, owner_reference(feed), get, create, replace)

    def _refused_by_policy(self, body: dict[str, Any], feed: Feed, message: str) -> Result:
        """InvalidSpec for a destination the platform's lake prefix refuses, and the feed's CronJob suspended:
        when the platform team sets or narrows the prefix, what the feed made before must stop writing outside
        it. An allowed destination resumes it (the CronJob follows ``spec.suspend`` again)."""
        name = child_name(feed.name)
        writes = suspend_owned_cronjob(
            self.store.get_cronjob, self.store.replace_cronjob, feed.namespace, name, feed.uid
        )
        if writes is not None:
            message += f"; CronJob {name} is suspended until the destination is allowed"
        if writes:
            log.warning("suspended CronJob %s of %s/%s: %s", name, feed.namespace, feed.name, message)
        result = self._invalid(body, message)
        result.writes += writes or 0
        return result

    def _invalid(self, body: dict[str, Any], message: str) -> Result:
        """Ready=False and Synced=False with InvalidSpec: not retried until the spec changes; children untouched."""
        return self._not_ready(body, cond.INVALID_SPEC, message)
