"""Small helpers shared by test packages."""

from __future__ import annotations

import ssl
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]


if TYPE_CHECKING:
    from anthill_devkit.controlplane import ControlPlane

WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def api_writes(plane: ControlPlane, resources: Collection[str]) -> Counter[str]:
    """Writes the API server has served for ``resources`` since it started, by verb, resource and subresource
    (``PATCH marketfeeds/status``), from its own request metrics: no-op patches count too."""
    from prometheus_client.parser import text_string_to_metric_families  # noqa: PLC0415 - few tests need it

    context = ssl.create_default_context(cafile=str(plane.ca_file))
    request = urllib.request.Request(f"{plane.server}/metrics")  # noqa: S310 - loopback
    request.add_header("Authorization", f"Bearer {plane.admin_token}")
    with urllib.request.urlopen(request, context=context, timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    writes: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (sample.name == "apiserver_request_total" and labels.get("verb") in WRITE_VERBS
                    and labels.get("resource") in resources):  # fmt: skip
                subresource = f"/{labels['subresource']}" if labels.get("subresource") else ""
                writes[f"{labels['verb']} {labels['resource']}{subresource}"] += int(sample.value)
    return writes


def anthill(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed `anthill` command as a user would, from the repository root."""
    return subprocess.run([str(Path(sys.executable).parent / "anthill"), *args], env=env, capture_output=True,
                          text=True, check=False, cwd=REPO, timeout=timeout)  # fmt: skip
