"""Small helpers shared by test packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def anthill(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed `anthill` command as a user would, from the repository root."""
    return subprocess.run([str(Path(sys.executable).parent / "anthill"), *args], env=env, capture_output=True,
                          text=True, check=False, cwd=REPO, timeout=timeout)  # fmt: skip
