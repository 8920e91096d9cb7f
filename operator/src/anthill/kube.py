"""The operator's Kubernetes I/O, as plain dicts in and out. A 404 on read is ``None``.

Requests go through the Kubernetes client's ``ApiClient`` (its credentials, TLS and token refresh) as plain REST
calls with JSON bodies, not through the generated ``CoreV1Api``/``BatchV1Api``/``AppsV1Api`` classes: those
validate every method's arguments with pydantic and import every model they name, which cost the operator about
30 MiB of resident memory for good and a 60 MiB transient at start-up that the heap kept afterwards.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from anthill_api.common import GROUP, VERSION

NOT_FOUND = 404
FORBIDDEN = 403
EVENT_COMPONENT = "anthill-operator"
log = logging.getLogger(__name__)
CONFLICT = 409
BAD_REQUEST = 400
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"


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

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str | int] | None = None,
        body: dict[str, Any] | None = None,
        content_type: str = JSON,
    ) -> bytes:
        """One request to ``path`` (``/api/v1/...``); the response's body. A status outside 2xx raises
        ``ApiException`` (its subclass for 404, 409 and the rest), as the generated API classes do."""
        headers = {"Accept": JSON}
        if body is not None:
            headers["Content-Type"] = content_type
        verb, url, signed, sent, _ = self.api.param_serialize(
            method=method, resource_path=path, query_params=list((query or {}).items()),
            header_params=headers, body=body, auth_settings=["BearerToken"],
        )  # fmt: skip
        response = self.api.call_api(verb, url, header_params=signed, body=sent)
        data: bytes = response.read()  # type: ignore[no-untyped-call]
        if not 200 <= response.status <= 299:  # noqa: PLR2004 - the HTTP success range
            raise ApiException.from_response(
                http_resp=response, body=data.decode(errors="replace"), data=None
            )
        return data

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self._call(method, path, **kwargs))
        return result

    def _items(self, path: str, **query: str | int) -> list[dict[str, Any]]:
        return list(self._json("GET", path, query=query).get("items") or [])

    def _create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to the collection at ``path`` in its namespace; the object as stored."""
        return self._json("POST", _in(path, body["metadata"]["namespace"]), body=body)

    def _get(self, collection: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """One object of ``collection``, or None when it does not exist (404)."""
        try:
            return self._json("GET", _named(collection, namespace, name))
        except ApiException as exc:
            if exc.status == NOT_FOUND:
                return None
            raise

    def _replace(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        meta = body["metadata"]
        return self._json("PUT", _named(path, meta["namespace"], meta["name"]), body=body)

    def check_secret(self, namespace: str, name: str, key: str) -> bool:
        """Whether the operator can read the Secret and it has ``key`` (a missing Secret, a missing key and a
        refused read are alike False). The value is read by the API but never kept or logged."""
        try:
            secret = self._json("GET", _named(SECRETS, namespace, name))
        except ApiException as exc:
            if exc.status in (NOT_FOUND, FORBIDDEN):
                return False
            raise
        return key in (secret.get("data") or {}) or key in (secret.get("stringData") or {})

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
            secret = self._json("GET", _named(SECRETS, namespace, name))
        except ApiException as exc:
            if exc.status in (NOT_FOUND, FORBIDDEN):
                return None
            raise
        meta = secret.get("metadata") or {}
        if (meta.get("labels") or {}).get(opt_in_label) != "true":
            return None
        values: dict[str, str] = {}
        binary: set[str] = set()
        for key, encoded in (secret.get("data") or {}).items():
            try:
                values[key] = base64.b64decode(encoded).decode()
            except UnicodeDecodeError:
                binary.add(key)
        return SecretData(str(meta.get("resourceVersion") or ""), values, frozenset(binary))

    def namespace_terminating(self, namespace: str) -> bool:
        """Whether ``namespace`` is being deleted (or is gone). A ``list`` by name: the operator may list
        namespaces (kopf needs it) but not ``get`` one."""
        found = self._items("/api/v1/namespaces", fieldSelector=f"metadata.name={namespace}")
        if not found:
            return True
        meta, status = found[0].get("metadata") or {}, found[0].get("status") or {}
        return bool(meta.get("deletionTimestamp")) or status.get("phase") == "Terminating"

    def get_custom(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self._get(_custom(plural), namespace, name)

    def list_custom(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        return self._items(_in(_custom(plural), namespace))

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
        return self._json("PATCH", _named(_custom(plural), namespace, name), body={"metadata": metadata},
                          content_type=MERGE_PATCH)  # fmt: skip

    def patch_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        self._call("PATCH", _named(_custom(plural), namespace, name) + "/status", body={"status": status},
                   content_type=MERGE_PATCH)  # fmt: skip

    def get_feed(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.get_custom("marketfeeds", namespace, name)

    def get_cronjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._get(CRONJOBS, namespace, name)

    def get_configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._get(CONFIGMAPS, namespace, name)

    # Writes return the object as the server stored it, so a reconcile needs no read-after-write.
    def create_cronjob(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._create(CRONJOBS, body)

    def replace_cronjob(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._replace(CRONJOBS, body)

    def create_configmap(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._create(CONFIGMAPS, body)

    def replace_configmap(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._replace(CONFIGMAPS, body)

    def get_stream(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.get_custom("marketstreams", namespace, name)

    def get_deployment(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._get(DEPLOYMENTS, namespace, name)

    def create_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._create(DEPLOYMENTS, body)

    def replace_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._replace(DEPLOYMENTS, body)

    def pod_log_tail(self, namespace: str, pod: str, container: str, lines: int) -> str | None:
        """The last ``lines`` lines a pod's container wrote, or None when there is no log (yet)."""
        try:
            data = self._call(
                "GET",
                _named(PODS, namespace, pod) + "/log",
                query={"container": container, "tailLines": lines},
            )
        except ApiException as exc:
            if exc.status in (NOT_FOUND, BAD_REQUEST):  # 400: the container has not started
                return None
            raise
        return data.decode(errors="replace")

    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._create(JOBS, body)

    def list_jobs(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        return self._items(_in(JOBS, namespace), labelSelector=selector)

    def list_pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        return self._items(_in(PODS, namespace), labelSelector=selector)

    def post_event(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        """A core/v1 Event about ``obj`` (what `kubectl describe` lists); failures are only logged."""
        meta = obj["metadata"]
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        involved = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": meta["name"],
                    "namespace": meta["namespace"], "uid": meta.get("uid"),
                    "resourceVersion": meta.get("resourceVersion")}  # fmt: skip
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
            "involvedObject": {k: v for k, v in involved.items() if v is not None},
            "type": type_, "reason": reason, "message": message[:1024], "firstTimestamp": now, "lastTimestamp": now,
            "count": 1, "source": {"component": EVENT_COMPONENT},
            "reportingComponent": EVENT_COMPONENT, "reportingInstance": EVENT_COMPONENT,
        }  # fmt: skip
        try:
            self._create(EVENTS, event)
        except ApiException as exc:
            log.warning(
                "could not post event %s on %s/%s: %s", reason, meta["namespace"], meta["name"], exc.status
            )

    def list_page(
        self, plural: str, namespace: str | None, limit: int, token: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        """One page of at most ``limit`` objects of one of our kinds, in ``namespace`` or (None) cluster-wide,
        and the token that reads the next page ('' after the last)."""
        path = f"/apis/{GROUP}/{VERSION}/{plural}" if namespace is None else _in(_custom(plural), namespace)
        query: dict[str, str | int] = {"limit": limit}
        if token:
            query["continue"] = token
        page = self._json("GET", path, query=query)
        return list(page.get("items") or []), str((page.get("metadata") or {}).get("continue") or "")

    def peers(self, name: str, namespace: str | None) -> dict[str, Any]:
        """The replicas kopf lists in its (Cluster)KopfPeering ``name``: identity -> priority, lastseen and
        lifetime. Empty when the object does not exist."""
        peering = self._get(CLUSTER_PEERINGS if namespace is None else PEERINGS, namespace, name)
        return dict((peering or {}).get("status") or {})

    def ensure_peering(self, name: str, namespace: str | None) -> None:
        """Create kopf's (Cluster)KopfPeering ``name`` unless it exists."""
        body = {"apiVersion": "kopf.dev/v1", "metadata": {"name": name}}
        try:
            if namespace is None:
                self._json(
                    "POST",
                    CLUSTER_PEERINGS,
                    body={**body, "kind": "ClusterKopfPeering"},
                )
            else:
                peering = {**body, "kind": "KopfPeering", "metadata": {"name": name, "namespace": namespace}}
                self._create(PEERINGS, peering)
        except ApiException as exc:
            if exc.status != CONFLICT:
                raise


# Collections, by namespace.
SECRETS = "/api/v1/namespaces/{namespace}/secrets"
CONFIGMAPS = "/api/v1/namespaces/{namespace}/configmaps"
PODS = "/api/v1/namespaces/{namespace}/pods"
EVENTS = "/api/v1/namespaces/{namespace}/events"
CRONJOBS = "/apis/batch/v1/namespaces/{namespace}/cronjobs"
JOBS = "/apis/batch/v1/namespaces/{namespace}/jobs"
DEPLOYMENTS = "/apis/apps/v1/namespaces/{namespace}/deployments"
PEERINGS = "/apis/kopf.dev/v1/namespaces/{namespace}/kopfpeerings"
CLUSTER_PEERINGS = "/apis/kopf.dev/v1/clusterkopfpeerings"


def _custom(plural: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/{plural}"


def _in(collection: str, namespace: str | None) -> str:
    """``collection``'s path in ``namespace`` (escaped as a path segment); a cluster-scoped one's (None) as is."""
    return collection if namespace is None else collection.format(namespace=quote(namespace, safe=""))


def _named(collection: str, namespace: str | None, name: str) -> str:
    """One object's path: ``collection`` in ``namespace``, then ``name`` (both escaped as path segments)."""
    return f"{_in(collection, namespace)}/{quote(name, safe='')}"
