"""Images built here from ``docker/*.Dockerfile`` with buildah, over local bases made with debootstrap.

There is no Docker engine and no registry to pull a base from, so the bases are made locally:

- ``local/anthill-base``: Debian bookworm ``minbase`` with python3, python3-venv and ca-certificates, made
  with debootstrap from the mirror apt is configured with (``hack/images/base.txt`` lists the packages);
- ``local/anthill-jre`` and ``local/anthill-maven``: that base plus Debian's JRE 17, and plus Maven, from
  ``hack/images/*.Dockerfile`` (the Spark image's runtime and jar-fetching stages).

Each Dockerfile takes its bases as build arguments (``PYTHON_IMAGE`` and ``PYTHON``; ``JRE_IMAGE`` and
``MAVEN_IMAGE``); everything else in it runs as written. RUN steps that fetch packages see the host's CA
bundle (and Java trust store), mounted read-only for the build only.

Every image is tagged with a hash of its inputs (the Dockerfile, the files it copies, its build arguments,
its bases' tags), so an image is rebuilt only when an input changed, and a docker-archive of it is kept
beside buildah's storage for importing into a node's containerd:

    ${ANTHILL_TOOLS_DIR:-~/.cache/anthill}/images/{storage,run,archives,logs}
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from anthill_devkit.controlplane import log_tail
from anthill_devkit.node import missing_packages
from anthill_devkit.toolchain import exclusive, input_hash

# Debian packages the image builds need, by the file each provides.
BUILD_PACKAGES: Mapping[str, str] = {
    "/usr/bin/buildah": "buildah",
    "/usr/sbin/debootstrap": "debootstrap",
}
SUITE = "bookworm"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
HOST_JAVA_TRUST = Path("/etc/ssl/certs/java/cacerts")
DEBIAN_PYTHON = "/usr/bin/python3"
IMAGES = ("operator", "ingest", "spark")
DEB_LINE_WORDS = 4  # deb URI suite component...
RECIPE_VERSION = "1"  # bump when the way bases are made changes


class ImageError(RuntimeError):
    """An image could not be built; the message carries the build's log tail."""


@dataclass(frozen=True)
class BuiltImage:
    name: str
    tag: str
    archive: Path
    size: int
    seconds: float
    built: bool

    @property
    def reference(self) -> str:
        return f"{self.name}:{self.tag}"


# ---------------------------------------------------------------------------------------------------------
# Pure: inputs and their hashes


def instructions(text: str) -> list[tuple[str, str]]:
    """A Dockerfile's (INSTRUCTION, arguments), continuation lines joined and comments dropped."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in joined.splitlines()
        if line.strip()
    ]


def copied_paths(dockerfile: str) -> list[str]:
    """The build-context paths a Dockerfile's COPY/ADD instructions read (not ``--from`` stages)."""
    paths: list[str] = []
    for kind, arguments in instructions(dockerfile):
        words = shlex.split(arguments)
        if kind in ("COPY", "ADD") and not any(w.startswith("--from") for w in words):
            paths += [w for w in words if not w.startswith("--")][:-1]
    return paths


def dockerignore_patterns(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def ignored(relative: str, patterns: Sequence[str]) -> bool:
    """Whether ``.dockerignore`` leaves ``relative`` out (last matching pattern wins; ``!`` re-includes)."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        core = pattern[1:] if negate else pattern
        core = core.strip("/")
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, core) or fnmatch.fnmatch(p, core.replace("**/", "")) for p in prefixes):
            result = not negate
    return result


def context_files(root: Path, dockerfile: str, patterns: Sequence[str]) -> list[Path]:
    """The files of the build context a Dockerfile copies, after ``.dockerignore``."""
    files: set[Path] = set()
    for source in copied_paths(dockerfile):
        path = root / source.rstrip("/")
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for candidate in candidates:
            relative = candidate.relative_to(root).as_posix()
            if not ignored(relative, patterns) and "__pycache__" not in relative:
                files.add(candidate)
    return sorted(files)


def apt_mirror(sources: Mapping[str, str], suite: str = SUITE) -> str:
    """The Debian mirror apt uses for ``suite``'s main archive, from deb822 ``.sources`` or ``sources.list``."""
    for text in sources.values():
        for stanza in re.split(r"\n\s*\n", text):
            fields = {
                key.strip(): value.strip()
                for key, _, value in (line.partition(":") for line in stanza.splitlines() if ":" in line)
                if not key.startswith("#")
            }
            if suite in fields.get("Suites", "").split() and "main" in fields.get("Components", "").split():
                return fields["URIs"].split()[0]
        for line in text.splitlines():
            words = line.split()
            if (
                len(words) >= DEB_LINE_WORDS
                and words[0] == "deb"
                and words[2] == suite
                and "main" in words[3:]
            ):
                return words[1]
    raise ImageError(f"apt has no source for Debian {suite} main; debootstrap needs a mirror")


# ---------------------------------------------------------------------------------------------------------
# buildah


@dataclass
class Builder:
    """Builds the bases and images into a private buildah storage under ``cache``."""

    repo: Path
    cache: Path
    progress: Callable[[str], None] = lambda _msg: None

    @property
    def home(self) -> Path:
        return self.cache / "images"

    def buildah(self, *args: str, log: Path | None = None) -> subprocess.CompletedProcess[str]:
        command = [
            "buildah",
            "--root",
            str(self.home / "storage"),
            "--runroot",
            str(self.home / "run"),
            "--storage-driver",
            "overlay",
            *args,
        ]
        env = {**os.environ, "BUILDAH_ISOLATION": "chroot", "STORAGE_DRIVER": "overlay"}
        if log is None:
            return subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        with log.open("w") as out:
            out.write("$ " + shlex.join(command) + "\n")
            out.flush()
            result = subprocess.run(
                command, stdout=out, stderr=subprocess.STDOUT, text=True, check=False, env=env
            )
        return subprocess.CompletedProcess(command, result.returncode, "", "")

    def exists(self, reference: str) -> bool:
        return self.buildah("inspect", "--type", "image", reference).returncode == 0

    def _log(self, name: str) -> Path:
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        return logs / f"{name}.log"

    # --- bases -----------------------------------------------------------------------------------------

    def base_packages(self) -> list[str]:
        text = (self.repo / "hack" / "images" / "base.txt").read_text()
        return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]

    def base_tag(self) -> str:
        return input_hash(
            [
                ("recipe", RECIPE_VERSION.encode()),
                ("suite", SUITE.encode()),
                ("packages", " ".join(self.base_packages()).encode()),
            ]
        )

    def ensure_base(self) -> str:
        """``local/anthill-base:<hash>``, made with debootstrap if missing."""
        reference = f"local/anthill-base:{self.base_tag()}"
        if self.exists(reference):
            return reference
        with exclusive(self.home / ".base.lock"):
            if self.exists(reference):
                return reference
            self.progress(f"making {reference} with debootstrap (first time only; about a minute)")
            started = time.monotonic()
            self._debootstrap(reference)
            self.progress(f"made {reference} in {time.monotonic() - started:.0f}s")
        return reference

    def _debootstrap(self, reference: str) -> None:
        sources = {}
        for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
            if path.is_file() and path.suffix in (".list", ".sources", ""):
                sources[str(path)] = path.read_text()
        mirror = apt_mirror(sources)
        log = self._log("base")
        with tempfile.TemporaryDirectory(dir=self.home, prefix="rootfs-") as tmp:
            rootfs = Path(tmp) / "rootfs"
            command = [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(self.base_packages())}",
                SUITE,
                str(rootfs),
                mirror,
            ]
            with log.open("w") as out:
                result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
            if result.returncode != 0:
                raise ImageError(f"debootstrap failed (log {log}):{log_tail(log)}")
            # apt's own settings for this mirror (e.g. a snapshot's expired Valid-Until) come along.
            dump = subprocess.run(
                ["apt-config", "dump", "Acquire::Check-Valid-Until", "Acquire::Check-Date"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if dump.strip():
                (rootfs / "etc/apt/apt.conf.d/99anthill-local").write_text(dump)
            for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for entry in (rootfs / junk).glob("*"):
                    if entry.is_file():
                        entry.unlink()
            archive = Path(tmp) / "rootfs.tar"
            subprocess.run(
                ["tar", "-C", str(rootfs), "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
                 "-cf", str(archive), "."],
                check=True,
            )  # fmt: skip
            container = self.buildah("from", "scratch").stdout.strip()
            try:
                for args in (
                    ("add", container, str(archive), "/"),
                    ("config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     "--env", "LANG=C.UTF-8", "--cmd", "/bin/bash", container),
                    ("commit", "--quiet", container, reference),
                ):  # fmt: skip
                    step = self.buildah(*args)
                    if step.returncode != 0:
                        raise ImageError(f"buildah {args[0]} of the base failed: {step.stderr.strip()}")
            finally:
                self.buildah("rm", container)

    def ensure_layered_base(self, name: str, parent: str) -> str:
        """``local/anthill-<name>:<hash>`` from ``hack/images/<name>.Dockerfile`` over ``parent``."""
        dockerfile = self.repo / "hack" / "images" / f"{name}.Dockerfile"
        tag = input_hash([("parent", parent.encode()), ("dockerfile", dockerfile.read_bytes())])
        reference = f"local/anthill-{name}:{tag}"
        if self.exists(reference):
            return reference
        self.progress(f"building base {reference} (first time only)")
        started = time.monotonic()
        # apt reaches the mirror over plain HTTP, and must be free to rewrite the trust stores it installs.
        self._bud(dockerfile, reference, {"BASE": parent}, self._log(name), trust=())
        self.progress(f"built {reference} in {time.monotonic() - started:.0f}s")
        return reference

    # --- images ----------------------------------------------------------------------------------------

    def build_args(self, image: str) -> dict[str, str]:
        base = self.ensure_base()
        if image == "spark":
            jre = self.ensure_layered_base("jre", base)
            maven = self.ensure_layered_base("maven", jre)
            return {"JRE_IMAGE": jre, "MAVEN_IMAGE": maven}
        return {"PYTHON_IMAGE": base, "PYTHON": DEBIAN_PYTHON}

    def image_tag(self, image: str, build_args: Mapping[str, str]) -> str:
        dockerfile = self.repo / "docker" / f"{image}.Dockerfile"
        text = dockerfile.read_text()
        ignore = self.repo / ".dockerignore"
        patterns = dockerignore_patterns(ignore.read_text()) if ignore.exists() else []
        parts = [
            ("dockerfile", text.encode()),
            ("args", json.dumps(dict(build_args), sort_keys=True).encode()),
        ]
        parts += [
            (p.relative_to(self.repo).as_posix(), p.read_bytes())
            for p in context_files(self.repo, text, patterns)
        ]
        return input_hash(parts)

    def build(self, image: str) -> BuiltImage:
        """The image and its docker-archive, built only when an input changed."""
        started = time.monotonic()
        args = self.build_args(image)
        tag = self.image_tag(image, args)
        name = f"local/anthill-{image}"
        reference = f"{name}:{tag}"
        archive = self.home / "archives" / f"anthill-{image}-{tag}.tar"
        built = False
        with exclusive(self.home / f".{image}.lock"):
            if not archive.exists():
                if not self.exists(reference):
                    self.progress(f"building {reference} from docker/{image}.Dockerfile")
                    trust = (HOST_CA_BUNDLE, HOST_JAVA_TRUST) if image == "spark" else (HOST_CA_BUNDLE,)
                    self._bud(
                        self.repo / "docker" / f"{image}.Dockerfile", reference, args, self._log(image), trust
                    )
                    built = True
                archive.parent.mkdir(parents=True, exist_ok=True)
                partial = archive.with_suffix(".partial")
                partial.unlink(missing_ok=True)
                result = self.buildah("push", "--quiet", reference, f"docker-archive:{partial}:{reference}")
                if result.returncode != 0:
                    raise ImageError(f"exporting {reference} failed: {result.stderr.strip()}")
                partial.replace(archive)
                for stale in archive.parent.glob(f"anthill-{image}-*.tar"):
                    if stale != archive:
                        stale.unlink()
                self._remove_older(name, reference)
        # The docker-archive holds every layer uncompressed: the image's size on a node.
        return BuiltImage(name, tag, archive, archive.stat().st_size, time.monotonic() - started, built)

    def _bud(
        self, dockerfile: Path, reference: str, args: Mapping[str, str], log: Path, trust: Sequence[Path]
    ) -> None:
        """``buildah bud`` with the host's trust stores in ``trust`` mounted read-only into RUN steps."""
        volumes = [f"{path.resolve()}:{path}:ro" for path in trust if path.exists()]
        command = [
            "bud",
            "--layers",
            "--isolation",
            "chroot",
            "--network",
            "host",
            "-f",
            str(dockerfile),
            "-t",
            reference,
        ]
        for volume in volumes:
            command += ["-v", volume]
        for key, value in args.items():
            command += ["--build-arg", f"{key}={value}"]
        result = self.buildah(*command, str(self.repo), log=log)
        if result.returncode != 0:
            raise ImageError(f"building {reference} failed (log {log}):{log_tail(log)}")

    def _remove_older(self, name: str, keep: str) -> None:
        """Drop earlier builds of ``name`` (every tag but ``keep``), so the storage holds one build per image
        however often the sources change. Cached intermediate layers stay (:meth:`prune` drops them)."""
        listed = self.buildah("images", "--noheading", "--format", "{{.Name}}:{{.Tag}}").stdout.split()
        older = [ref for ref in listed if ref.removeprefix("localhost/").rsplit(":", 1)[0] == name]
        older = [ref for ref in older if ref.removeprefix("localhost/") != keep]
        if older:
            self.buildah("rmi", *older)

    def prune(self) -> int:
        """Remove every image no tag refers to (the layer cache of earlier builds); returns bytes freed."""
        before = _tree_size(self.home / "storage")
        self.buildah("rmi", "--prune")
        return max(0, before - _tree_size(self.home / "storage"))


def _tree_size(root: Path) -> int:
    total = 0
    for path in root.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
    return total


def missing_build_packages() -> list[str]:
    return missing_packages(BUILD_PACKAGES)
