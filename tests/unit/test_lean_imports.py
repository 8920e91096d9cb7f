"""The operator starts without the libraries it does not need to serve: the Databricks SDK costs about 60 MiB and
seconds of start-up, and loads only once a DatabricksConnection or a Databricks pipeline is used; the Kubernetes
client's generated API classes (``CoreV1Api`` and the like) cost about 30 MiB for good and a 60 MiB transient at
start-up, and the operator calls the API without them."""

from __future__ import annotations

import json
import subprocess
import sys

# What `anthill operator run` imports before it serves anything: the root command with every installed
# plugin (as the image's entry point builds it), then the controller and all its reconcilers, and the Store
# all of them share (built as `run` builds it, on the Kubernetes client's ApiClient).
STARTUP = """
import json, sys
from anthill_api.command import build_app
build_app()
import anthill.controller.run
from anthill.pipeline.kubernetes import desired_spark_cronjob
from anthill.kube import Store
from kubernetes import client
Store(client.ApiClient())
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded: list[str] = json.loads(out.splitlines()[-1])
    return loaded


def test_the_operator_and_every_cli_plugin_load_without_the_databricks_sdk_or_generated_kubernetes_apis() -> (
    None
):
    loaded = loaded_after(STARTUP)
    assert [m for m in loaded if m.partition(".")[0] == "databricks"] == []
    assert [m for m in loaded if m.startswith("kubernetes.client.api.")] == []
