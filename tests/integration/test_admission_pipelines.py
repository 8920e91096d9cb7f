"""Invalid MedallionPipelines on the real API server: each is refused at admission, naming its field.

Every case starts from a valid pipeline (one on Databricks, one on the Kubernetes runtime) and breaks one thing
that can never work, so the refusal is for that thing alone.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.kubectl import Kubectl

pytestmark = pytest.mark.integration

DELETE = object()  # a patch value: remove the key

DATABRICKS: dict[str, Any] = {
    "feeds": [{"name": "us-equities-daily"}, {"name": "us-indices-daily"}],
    "lake": {"uri": "s3://anthill-lake-dev/market"},
    "catalog": {"name": "anthill_dev"},
    "schedule": "0 19 * * 1-5",
    "timeZone": "America/New_York",
    "runtime": {
        "databricks": {
            "connectionRef": {"name": "dev-workspace"},
            "cluster": {"sparkVersion": "17.3.x-scala2.13", "nodeTypeId": "m6i.xlarge", "numWorkers": 2},
        }
    },
}
KUBERNETES: dict[str, Any] = {
    "feeds": [{"name": "us-equities-daily"}],
    "lake": {"uri": "s3://anthill-lake-dev/market"},
    "schedule": "0 19 * * 1-5",
    "runtime": {
        "kubernetes": {
            "image": "ghcr.io/anthill-platform/anthill-spark:0.1.0",
            "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
        }
    },
}
DB = "spec.runtime.databricks"
K8S = "spec.runtime.kubernetes"


def _patched(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is DELETE:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _patched(out[key], value)
        else:
            out[key] = value
    return out


def case(name: str, base: dict[str, Any], patch: dict[str, Any], expect: str, why: str) -> Any:
    return pytest.param(_patched(base, patch), expect, why, id=name)


CASES = [
    case("feeds-empty", DATABRICKS, {"feeds": []}, "spec.feeds", "a pipeline refines at least one feed"),
    case("feeds-duplicate", DATABRICKS, {"feeds": [{"name": "a"}, {"name": "a"}]}, "spec.feeds[1]",
         "feeds are a set keyed by name"),
    case("feed-name-invalid", DATABRICKS, {"feeds": [{"name": "US_Equities"}]}, "spec.feeds[0].name",
         "a MarketFeed name is a DNS subdomain"),
    case("lake-http", DATABRICKS, {"lake": {"uri": "http://lake.example/market"}}, "spec.lake.uri",
         "Delta tables live on s3://, file://, abfss:// or dbfs:/"),
    case("lake-relative-file", KUBERNETES, {"lake": {"uri": "file://lake"}}, "spec.lake.uri",
         "a file:// lake needs an absolute path"),
    case("lake-bucket-uppercase", DATABRICKS, {"lake": {"uri": "s3://Anthill-Lake/market"}}, "spec.lake.uri",
         "S3 bucket names are lowercase"),
    case("lake-missing", DATABRICKS, {"lake": DELETE}, "spec.lake", "silver and gold need a place"),
    case("catalog-missing-on-databricks", DATABRICKS, {"catalog": DELETE}, "spec.catalog",
         "Databricks tables are Unity Catalog names"),
    case("catalog-name-invalid", DATABRICKS, {"catalog": {"name": "anthill-dev"}}, "spec.catalog.name",
         "a Unity Catalog name has no hyphen"),
    case("gold-unknown", DATABRICKS, {"gold": ["daily_returns", "alpha"]}, "spec.gold[1]",
         "only the gold tables the jobs build"),
    case("gold-empty", DATABRICKS, {"gold": []}, "spec.gold", "a pipeline builds at least one gold table"),
    case("gold-duplicate", DATABRICKS, {"gold": ["volatility", "volatility"]}, "spec.gold[1]",
         "gold tables are a set"),
    case("schedule-words", DATABRICKS, {"schedule": "every weekday"}, "spec.schedule", "not cron"),
    case("schedule-six-fields", KUBERNETES, {"schedule": "0 0 19 * * 1-5"}, "spec.schedule",
         "five cron fields, not Quartz's six"),
    case("schedule-both-days-on-databricks", DATABRICKS, {"schedule": "0 19 1 * 1"}, "spec.schedule",
         "Quartz cannot restrict both day of month and day of week"),
    case("schedule-and-trigger", KUBERNETES, {"trigger": {"feedsLanded": {}}}, "spec.schedule",
         "a pipeline runs on a cron or when its feeds land, not both"),
    case("neither-schedule-nor-trigger", DATABRICKS, {"schedule": DELETE}, "spec.schedule",
         "a pipeline with nothing to start it would never run"),
    case("trigger-unknown", KUBERNETES, {"schedule": DELETE, "trigger": {"onFriday": {}}}, "spec.trigger.onFriday",
         "only the triggers the operator knows"),
    case("time-zone-invalid", DATABRICKS, {"timeZone": "New York"}, "spec.timeZone", "an IANA zone name"),
    case("suspend-not-a-boolean", DATABRICKS, {"suspend": "yes"}, "spec.suspend", "suspend is a boolean"),
    case("runtime-both", DATABRICKS, {"runtime": {"kubernetes": KUBERNETES["runtime"]["kubernetes"]}},
         "spec.runtime", "exactly one runtime"),
    case("runtime-neither", KUBERNETES, {"runtime": {"kubernetes": DELETE}}, "spec.runtime",
         "exactly one runtime"),
    case("image-not-a-reference", KUBERNETES, {"runtime": {"kubernetes": {"image": "Anthill Spark"}}},
         f"{K8S}.image", "the CronJob's pod could never pull it"),
    case("image-uppercase-path", KUBERNETES,
         {"runtime": {"kubernetes": {"image": "ghcr.io/Anthill-Platform/spark:1"}}}, f"{K8S}.image",
         "repository paths are lowercase"),
    case("service-account-invalid", KUBERNETES,
         {"runtime": {"kubernetes": {"serviceAccountName": "Lake_Writer"}}}, f"{K8S}.serviceAccountName",
         "a ServiceAccount name is a DNS subdomain"),
    case("resources-not-a-quantity", KUBERNETES,
         {"runtime": {"kubernetes": {"resources": {"requests": {"cpu": "lots"}}}}}, f"{K8S}.resources.requests",
         "the API server refuses a CronJob whose pod asks for no quantity"),
    case("resources-request-over-limit", KUBERNETES,
         {"runtime": {"kubernetes": {"resources": {"requests": {"memory": "8Gi"}, "limits": {"memory": "4Gi"}}}}},
         f"{K8S}.resources.requests", "the API server refuses a request above its limit"),
    case("connection-ref-missing", DATABRICKS, {"runtime": {"databricks": {"connectionRef": DELETE}}},
         f"{DB}.connectionRef", "the job needs a workspace"),
    case("connection-name-invalid", DATABRICKS,
         {"runtime": {"databricks": {"connectionRef": {"name": "Dev Workspace"}}}}, f"{DB}.connectionRef.name",
         "a DatabricksConnection name is a DNS subdomain"),
    case("node-type-missing", DATABRICKS,
         {"runtime": {"databricks": {"cluster": {"nodeTypeId": DELETE}}}}, f"{DB}.cluster.nodeTypeId",
         "a job cluster needs an instance type (the runtime defaults to the one the wheel targets)"),
    case("workers-and-autoscale", DATABRICKS,
         {"runtime": {"databricks": {"cluster": {"autoscale": {"minWorkers": 1, "maxWorkers": 4}}}}},
         f"{DB}.cluster.autoscale", "fixed workers or autoscale, not both"),
    case("autoscale-min-over-max", DATABRICKS,
         {"runtime": {"databricks": {"cluster": {"numWorkers": DELETE,
                                                 "autoscale": {"minWorkers": 5, "maxWorkers": 2}}}}},
         f"{DB}.cluster.autoscale.minWorkers", "the range must not be empty"),
    case("workers-negative", DATABRICKS, {"runtime": {"databricks": {"cluster": {"numWorkers": -1}}}},
         f"{DB}.cluster.numWorkers", "a worker count is not negative"),
    case("instance-profile-not-an-arn", DATABRICKS,
         {"runtime": {"databricks": {"cluster": {"instanceProfileArn": "anthill-dev"}}}},
         f"{DB}.cluster.instanceProfileArn", "Databricks takes an instance profile ARN"),
    case("instance-profile-is-a-role", DATABRICKS,
         {"runtime": {"databricks": {"cluster": {"instanceProfileArn": "arn:aws:iam::123456789012:role/x"}}}},
         f"{DB}.cluster.instanceProfileArn", "a role ARN is no instance profile"),
    case("wheel-not-a-wheel", DATABRICKS,
         {"runtime": {"databricks": {"wheel": "/Volumes/anthill/default/wheels/anthill_spark.tar.gz"}}},
         f"{DB}.wheel", "a python_wheel_task installs a .whl"),
    case("wheel-from-http", DATABRICKS,
         {"runtime": {"databricks": {"wheel": "https://example.com/anthill_spark-0.1.0-py3-none-any.whl"}}},
         f"{DB}.wheel", "Databricks installs wheels from workspace, volume or cloud-store paths"),
    case("notification-email-invalid", DATABRICKS,
         {"runtime": {"databricks": {"notificationEmails": ["data team"]}}}, f"{DB}.notificationEmails[0]",
         "an address has an @"),
    case("management-policy-unknown", DATABRICKS, {"managementPolicies": ["Adopt"]},
         "spec.managementPolicies[0]", "Crossplane's policy names only"),
    case("deletion-policy-unknown", DATABRICKS, {"deletionPolicy": "Keep"}, "spec.deletionPolicy",
         "Delete or Orphan"),
    case("feeds-landed-with-a-stream", KUBERNETES,
         {"schedule": DELETE, "trigger": {"feedsLanded": {}}, "feeds": [{"name": "live", "kind": "MarketStream"}]},
         "spec.trigger", "a stream has no watermark to land: a pipeline reading one runs on a schedule"),
    case("feed-kind-unknown", KUBERNETES, {"feeds": [{"name": "a", "kind": "Job"}]}, "spec.feeds[0].kind",
         "a pipeline reads MarketFeeds and MarketStreams only"),
    case("unknown-spec-field", DATABRICKS, {"jobId": 1234}, "spec.jobId",
         "the job id belongs in the anthill.io/external-name annotation, not the spec"),
]  # fmt: skip


@pytest.fixture
def ns(kubectl: Kubectl) -> Iterator[str]:
    name = f"admission-{uuid.uuid4().hex[:8]}"
    kubectl.ok("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


@pytest.mark.parametrize(("spec", "expect", "why"), CASES)
def test_invalid_pipeline_is_rejected_naming_the_field(
    kubectl: Kubectl, ns: str, spec: dict[str, Any], expect: str, why: str
) -> None:
    manifest = {"apiVersion": "anthill.io/v1alpha1", "kind": "MedallionPipeline",
                "metadata": {"name": "invalid"}, "spec": spec}  # fmt: skip
    result = kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(manifest))
    assert result.returncode != 0, f"admitted, but {why}"
    # The field itself, as the API server names it ("spec.x: Invalid value", "unknown field \"spec.x\"").
    assert re.search(re.escape(expect) + '[:"]', result.stderr), result.stderr
    assert kubectl("get", "mp", "-n", ns, "-o", "name").stdout == ""  # nothing half-created


def test_the_bases_are_admitted(kubectl: Kubectl, ns: str) -> None:
    """Each case is refused for the one thing it breaks, not for something its base already got wrong."""
    for name, spec in (("databricks", DATABRICKS), ("kubernetes", KUBERNETES)):
        manifest = {"apiVersion": "anthill.io/v1alpha1", "kind": "MedallionPipeline",
                    "metadata": {"name": name}, "spec": spec}  # fmt: skip
        result = kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(manifest))
        assert result.returncode == 0, result.stderr


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25
