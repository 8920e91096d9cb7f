"""The operator starts without the Databricks SDK: it costs about 60 MiB and seconds of start-up, and loads only
once a DatabricksConnection or a Databricks pipeline is used."""

from __future__ import annotations

import json
import subprocess
import sys

# What `anthill operator run` imports before it serves anything: the root command with every installed
# plugin (as the image's entry point builds it), then the controller and all its reconcilers.
STARTUP = """
import json, sys
from anthill_api.command import build_app
build_app()
import anthill.controller.run
from anthill.pipeline.kubernetes import desired_spark_cronjob
print(json.dumps(sorted(m for m in sys.modules if m.partition('.')[0] == 'databricks')))
"""


def loaded_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded: list[str] = json.loads(out.splitlines()[-1])
    return loaded


def test_the_operator_and_every_cli_plugin_load_without_the_databricks_sdk() -> None:
    assert loaded_after(STARTUP) == []
