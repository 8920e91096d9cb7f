"""Reconcile DatabricksConnections: check that the credentials work and report who they act as."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from anthill import conditions as cond
from anthill.kube import Store
from anthill.pipeline.connections import CONNECTIONS, ConnectionNotReadyError, Connections, failure_reason
from anthill.pipeline.jobs import JobsError, ThrottledError, UnauthorizedError
from anthill.pipeline.results import Result, RetryLaterError
from anthill.settings import OperatorSettings
from anthill.status import write_status

CONNECTION_STATUS_KEYS = ("observedGeneration", "conditions", "workspaceId", "principal")


@dataclass
class ConnectionReconciler:
    """Checks that a DatabricksConnection's credentials work, and reports who they act as."""

    store: Store
    settings: OperatorSettings
    connections: Connections
    clock: Callable[[], datetime.datetime] = field(default=lambda: datetime.datetime.now(datetime.UTC))

    def reconcile(self, body: dict[str, Any]) -> Result:
        """Ready=True with workspaceId and principal, or Ready=False with the reason; raises RetryLaterError."""
        meta = body["metadata"]
        generation = meta.get("generation")
        try:
            connection = self.connections.resolve_body(body)
            identity = connection.client.identity()
        except (ConnectionNotReadyError, JobsError) as exc:
            reason = failure_reason(exc)
            updates = cond.not_ready(reason, str(exc), generation)
            writes = self._status(body, {"observedGeneration": generation}, updates)
            if reason == cond.INVALID_SPEC:
                return Result(
                    reason, writes
                )  # not retried: an edit of the spec (or the operator's settings) is
            raise RetryLaterError(reason, str(exc), self._retry_delay(exc)) from exc
        status: dict[str, Any] = {"observedGeneration": generation}
        if identity.workspace_id is not None:
            status["workspaceId"] = identity.workspace_id
        if identity.principal:
            status["principal"] = identity.principal
        who = f" as {identity.principal}" if identity.principal else ""
        updates = [
            cond.condition(
                cond.READY,
                True,
                cond.AVAILABLE,
                f"{connection.host} accepts the credentials{who}",
                generation,
            ),
            cond.condition(cond.SYNCED, True, cond.RECONCILE_SUCCESS, "", generation),
        ]
        return Result(cond.AVAILABLE, self._status(body, status, updates))

    def release(self, body: dict[str, Any]) -> Result:
        """Let a deleted connection go once no pipeline in its namespace names it; until then Ready=False,
        Deleting, naming them, and :class:`RetryLaterError` (they may need its client to delete their jobs)."""
        meta = body["metadata"]
        users = self.connections.in_use(meta["namespace"], meta["name"])
        if users:
            message = f"kept until the pipelines that use it are deleted: {', '.join(users)}"
            update = [cond.condition(cond.READY, False, cond.DELETING, message, meta.get("generation"))]
            self._status(body, {}, update, keep_others=True)
            raise RetryLaterError(cond.DELETING, message)
        self.connections.forget(meta["namespace"], meta["name"])
        return Result("Deleted")

    def _retry_delay(self, exc: Exception) -> float | None:
        if isinstance(exc, ThrottledError):
            return exc.retry_after
        if isinstance(exc, UnauthorizedError):
            return self.settings.unauthorized_retry
        if isinstance(exc, ConnectionNotReadyError):
            return self.settings.secret_retry
        return None  # the controller's backoff

    def _status(
        self,
        body: dict[str, Any],
        status: dict[str, Any],
        updates: list[dict[str, Any]],
        keep_others: bool = False,
    ) -> int:
        return write_status(
            self.store, CONNECTIONS, body, status, updates, self.clock(), CONNECTION_STATUS_KEYS, keep_others
        )
