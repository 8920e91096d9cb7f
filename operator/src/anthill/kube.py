"""The operator's Kubernetes I/O, as plain dicts in and out. A 404 on read is ``None``."""

from __future__ import annotations

import base64
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from anthill_api.common import GROUP, VERSION

NOT_FOUND = 404
FORBIDDEN = 403
EVENT_COMPONENT = "anthill-operator"
log = logging.getLogger(__name__)
CONFLICT = 409


def connect() -> client.ApiClient:
    """In-cluster credentials when running in a pod, else the kubeconfig (KUBECONFIG or ~/.kube/config)."""
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
        return client.ApiClient()
    except config.ConfigException:
        api: client.ApiClient = config.new_client_from_config()  # type: ignore[no-untyped-call]
        return api


@dataclass(frozen=True)
class SecretData:
    """A Secret's resourceVersion and decoded values (kept out of repr)."""

    resource_version: str
    values: dict[str, str] = field(repr=False)
    binary_keys: frozenset[str] = frozenset()


class Store:
    """Reads and writes the objects a MarketFeed owns, and the feed's status."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.custom = client.CustomObjectsApi(api)

    def _sanitize(self, obj: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.api.sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
        return result

    def check_secret(self, namespace: str, name: str, key: str) -> bool:
        """Whether the operator can read the Secret and it has ``key`` (a missing Secret, a missing key and a
        refused read are alike False). The value is read by the API but never kept or logged."""
        try:
            secret = self.core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status in (NOT_FOUND, FORBIDDEN):
                return False
            raise
        return key in (secret.data or {}) or key in (secret.string_data or {})

    def read_secret(self, namespace: str, name: str, opt_in_label: str) -> SecretData | None:
        """A Secret's values and resourceVersion, or None when it is not readable: it does not exist, the
        operator may not read it, or it lacks the label ``opt_in_label: "true"``. The three are one answer so
        that no status can tell a caller whether a Secret it cannot read exists.

        Only for credentials the operator itself must present (a DatabricksConnection's); callers keep the
        values in memory and never log them. A value that is not UTF-8 text (a keystore next to a token) is
        left out of ``values`` and named in ``binary_keys``; the values of a Secret without the label are
        never decoded.
        """
        try:
            secret = self.core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status in (NOT_FOUND, FORBIDDEN):
                return None
            raise
        meta = secret.metadata
        if meta is None or (meta.labels or {}).get(opt_in_label) != "true":
            return None
        values: dict[str, str] = {}
        binary: set[str] = set()
        for key, encoded in (secret.data or {}).items():
            try:
                values[key] = base64.b64decode(encoded).decode()
            except UnicodeDecodeError:
                binary.add(key)
        return SecretData(str(meta.resource_version or ""), values, frozenset(binary))

    def namespace_terminating(self, namespace: str) -> bool:
        """Whether ``namespace`` is being deleted (or is gone). A ``list`` by name: the operator may list
        namespaces (kopf needs it) but not ``get`` one."""
        found = self.core.list_namespace(field_selector=f"metadata.name={namespace}").items
        if not found:
            return True
        meta, status = found[0].metadata, found[0].status
        return bool(meta and meta.deletion_timestamp) or bool(status and status.phase == "Terminating")

    def get_custom(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return _or_none(lambda: cast("dict[str, Any]", self.custom.get_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, name)))  # fmt: skip

    def list_custom(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        listed = self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)
        return list(cast("dict[str, Any]", listed).get("items") or [])

    def patch_annotations(
        self,
        plural: str,
        namespace: str,
        name: str,
        annotations: dict[str, str | None],
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """Merge-patch annotations (None removes one); the object as stored.

        With ``resource_version`` the patch is a compare-and-swap: the API server refuses it with 409 Conflict
        when anyone wrote the object since that version was read.
        """
        metadata: dict[str, Any] = {"annotations": annotations}
        if resource_version is not None:
            metadata["resourceVersion"] = resource_version
        return cast("dict[str, Any]", self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, name, {"metadata": metadata}))  # fmt: skip

    def patch_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, plural, name, {"status": status}
        )

    def get_feed(self, namespace: str, name: str) -> dict[str, Any] | None:
        return _or_none(lambda: cast("dict[str, Any]", self.custom.get_namespaced_custom_object(
            GROUP, VERSION, namespace, "marketfeeds", name)))  # fmt: skip

    def get_cronjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        return _or_none(lambda: self._sanitize(self.batch.read_namespaced_cron_job(name, namespace)))

    def get_configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        return _or_none(lambda: self._sanitize(self.core.read_namespaced_config_map(name, namespace)))

    # Writes return the object as the server stored it, so a reconcile needs no read-after-write.
    def create_cronjob(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._sanitize(
            self.batch.create_namespaced_cron_job(body["metadata"]["namespace"], cast("Any", body))
        )

    def replace_cronjob(self, body: dict[str, Any]) -> dict[str, Any]:
        meta = body["metadata"]
        return self._sanitize(
            self.batch.replace_namespaced_cron_job(meta["name"], meta["namespace"], cast("Any", body))
        )

    def create_configmap(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._sanitize(
            self.core.create_namespaced_config_map(body["metadata"]["namespace"], cast("Any", body))
        )

    def replace_configmap(self, body: dict[str, Any]) -> dict[str, Any]:
        meta = body["metadata"]
        return self._sanitize(
            self.core.replace_namespaced_config_map(meta["name"], meta["namespace"], cast("Any", body))
        )

    def get_stream(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.get_custom("marketstreams", namespace, name)

    def get_deployment(self, namespace: str, name: str) -> dict[str, Any] | None:
        return _or_none(lambda: self._sanitize(self.apps.read_namespaced_deployment(name, namespace)))

    def create_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._sanitize(
            self.apps.create_namespaced_deployment(body["metadata"]["namespace"], cast("Any", body))
        )

    def replace_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        meta = body["metadata"]
        return self._sanitize(
            self.apps.replace_namespaced_deployment(meta["name"], meta["namespace"], cast("Any", body))
        )

    def pod_log_tail(self, namespace: str, pod: str, container: str, lines: int) -> str | None:
        """The last ``lines`` lines a pod's container wrote, or None when there is no log (yet)."""
        try:
            return str(
                self.core.read_namespaced_pod_log(pod, namespace, container=container, tail_lines=lines)
            )
        except ApiException as exc:
            if exc.status in (NOT_FOUND, 400):  # 400: the container has not started
                return None
            raise

    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._sanitize(
            self.batch.create_namespaced_job(body["metadata"]["namespace"], cast("Any", body))
        )

    def list_jobs(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        jobs = self.batch.list_namespaced_job(namespace, label_selector=selector)
        return [self._sanitize(job) for job in jobs.items]

    def list_pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        pods = self.core.list_namespaced_pod(namespace, label_selector=selector)
        return [self._sanitize(pod) for pod in pods.items]

    def post_event(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        """A core/v1 Event about ``obj`` (what `kubectl describe` lists); failures are only logged."""
        meta = obj["metadata"]
        now = datetime.datetime.now(datetime.UTC)
        event = client.CoreV1Event(
            metadata=client.V1ObjectMeta(generate_name=f"{meta['name']}.", namespace=meta["namespace"]),
            involved_object=client.V1ObjectReference(
                api_version=obj.get("apiVersion"), kind=obj.get("kind"), name=meta["name"],
                namespace=meta["namespace"], uid=meta.get("uid"), resource_version=meta.get("resourceVersion"),
            ),
            type=type_, reason=reason, message=message[:1024], first_timestamp=now, last_timestamp=now,
            count=1, source=client.V1EventSource(component=EVENT_COMPONENT),
            reporting_component=EVENT_COMPONENT, reporting_instance=EVENT_COMPONENT,
        )  # fmt: skip
        try:
            self.core.create_namespaced_event(meta["namespace"], event)
        except ApiException as exc:
            log.warning(
                "could not post event %s on %s/%s: %s", reason, meta["namespace"], meta["name"], exc.status
            )

    def ensure_peering(self, name: str, namespace: str | None) -> None:
        """Create kopf's (Cluster)KopfPeering ``name`` unless it exists."""
        body = {"apiVersion": "kopf.dev/v1", "metadata": {"name": name}}
        try:
            if namespace is None:
                self.custom.create_cluster_custom_object(
                    "kopf.dev", "v1", "clusterkopfpeerings", {**body, "kind": "ClusterKopfPeering"}
                )
            else:
                self.custom.create_namespaced_custom_object(
                    "kopf.dev", "v1", namespace, "kopfpeerings", {**body, "kind": "KopfPeering"}
                )
        except ApiException as exc:
            if exc.status != CONFLICT:
                raise


def _or_none(read: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """``read()``, or None when the object does not exist (404)."""
    try:
        return read()
    except ApiException as exc:
        if exc.status == NOT_FOUND:
            return None
        raise
