"""ensure_child writes only to objects its owner controls; the API server's 422 becomes a typed refusal."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from anthill.children import ChildConflictError, ChildRejectedError, ensure_child

OWNER = {"apiVersion": "anthill.io/v1alpha1", "kind": "MarketFeed", "name": "daily", "uid": "u-1",
         "controller": True, "blockOwnerDeletion": True}  # fmt: skip


def _desired() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "data": {"feed.json": "{}"},
            "metadata": {"name": "daily", "namespace": "market", "ownerReferences": [OWNER]}}  # fmt: skip


def _existing(owners: list[dict[str, Any]] | None) -> dict[str, Any]:
    found = _desired()
    found["data"] = {"app.conf": "someone else's"}
    found["metadata"] = {"name": "daily", "namespace": "market", "resourceVersion": "7"}
    if owners is not None:
        found["metadata"]["ownerReferences"] = owners
    return found


class Server:
    """The objects the API server holds, by name; every write is recorded."""

    def __init__(self, existing: dict[str, Any] | None = None) -> None:
        self.objects = {existing["metadata"]["name"]: existing} if existing else {}
        self.writes: list[str] = []

    def get(self, _namespace: str, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.objects.get(name))

    def write(self, body: dict[str, Any]) -> dict[str, Any]:
        self.writes.append(body["metadata"]["name"])
        self.objects[body["metadata"]["name"]] = body
        return body


@pytest.mark.parametrize(
    "owners",
    [
        pytest.param(None, id="made by hand, no owner"),
        pytest.param([{**OWNER, "uid": "u-2"}], id="controlled by another feed"),
        pytest.param([{**OWNER, "kind": "MedallionPipeline", "uid": "p-1"}], id="controlled by a pipeline"),
        pytest.param([{**OWNER, "controller": False}], id="this feed only as a non-controlling owner"),
    ],
)
def test_an_object_this_owner_does_not_control_is_never_written(owners: list[dict[str, Any]] | None) -> None:
    server = Server(_existing(owners))
    with pytest.raises(ChildConflictError, match="ConfigMap market/daily already exists"):
        ensure_child(_desired(), server.get, server.write, server.write)
    assert server.writes == []


def test_an_object_this_owner_controls_is_brought_in_line() -> None:
    server = Server(_existing([OWNER]))
    assert ensure_child(_desired(), server.get, server.write, server.write)[0] == 1
    assert server.objects["daily"]["data"] == {"feed.json": "{}"}


def test_a_desired_object_without_a_controller_is_a_programming_error() -> None:
    desired = _desired()
    del desired["metadata"]["ownerReferences"]
    with pytest.raises(ValueError, match="names no controller"):
        ensure_child(desired, Server().get, Server().write, Server().write)


def test_a_422_is_a_refusal_with_the_servers_message() -> None:
    refused = ApiException(status=422, reason="Unprocessable Entity")
    refused.body = json.dumps(
        {"message": 'CronJob.batch "daily" is invalid: spec.timeZone: Invalid value: "America/Nowhere"'}
    )

    def create(_body: dict[str, Any]) -> dict[str, Any]:
        raise refused

    with pytest.raises(
        ChildRejectedError, match=r"refused ConfigMap market/daily: .*spec\.timeZone: Invalid value"
    ):
        ensure_child(_desired(), Server().get, create, create)
