"""Where a deployed anthill-spark wheel lives, and which pointers the operator trusts."""

from __future__ import annotations

import pytest

from anthill.pipeline.wheels import (
    PointerError,
    check_volume,
    parse_pointer,
    pointer_path,
    release_version,
    wheel_path,
)

VOLUME = "/Volumes/anthill/default/wheels"
FOLDER = f"{VOLUME}/anthill_spark/0.1.0"
WHEEL = f"{FOLDER}/0123456789abcdef/anthill_spark-0.1.0-py3-none-any.whl"


def test_the_layout_carries_version_and_hash_and_keeps_the_file_name() -> None:
    sha = "0123456789abcdef" + "f" * 48
    assert wheel_path(VOLUME + "/", "0.1.0", sha, "anthill_spark-0.1.0-py3-none-any.whl") == WHEEL
    assert pointer_path(VOLUME, "0.1.0") == f"{FOLDER}/CURRENT"


def test_the_release_version_is_the_operator_package_version() -> None:
    # Every workspace member shares one version: the operator runs the wheel released with it.
    from importlib.metadata import version  # noqa: PLC0415

    assert release_version() == version("anthill-spark") == version("anthill-operator")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(WHEEL.encode(), WHEEL, id="as-deploy-writes-it"),
        pytest.param(f"{WHEEL}\n".encode(), WHEEL, id="a-trailing-newline-from-an-editor"),
        pytest.param(
            f"{FOLDER}/0123456789abcdef/anthill_spark-0.1.0-1build-py3-none-any.whl".encode(),
            f"{FOLDER}/0123456789abcdef/anthill_spark-0.1.0-1build-py3-none-any.whl",
            id="a-build-tag-is-still-the-same-version",
        ),
    ],
)
def test_pointers_that_name_a_wheel_of_their_folder(content: bytes, expected: str) -> None:
    assert parse_pointer(content, VOLUME, "0.1.0") == expected


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            b"/Volumes/evil/x/y/0123456789abcdef/anthill_spark-0.1.0-py3-none-any.whl", id="another-volume"
        ),
        pytest.param(f"{FOLDER}/../../x/anthill_spark-0.1.0-py3-none-any.whl".encode(), id="climbs-out"),
        pytest.param(
            f"{VOLUME}/anthill_spark/0.2.0/0123456789abcdef/anthill_spark-0.2.0-py3-none-any.whl".encode(),
            id="another-version",
        ),
        pytest.param(f"{FOLDER}/0123456789abcdef/evil-0.1.0-py3-none-any.whl".encode(), id="another-package"),
        pytest.param(
            f"{FOLDER}/0123456789abcdef/anthill_spark-0.2.0-py3-none-any.whl".encode(),
            id="version-of-file-and-folder-differ",
        ),
        pytest.param(f"{FOLDER}/xyz/anthill_spark-0.1.0-py3-none-any.whl".encode(), id="no-hash-folder"),
        pytest.param(f"{WHEEL}\n{WHEEL}".encode(), id="two-lines"),
        pytest.param(
            f"{FOLDER}/0123456789abcdef/anthill_spark-0.1.0-py3-none-any\nx.whl".encode(),
            id="a-line-break-inside-a-tag",
        ),
        pytest.param(b"\xff\xfe", id="not-text"),
        pytest.param(b"", id="empty"),
    ],
)
def test_pointers_that_could_send_jobs_elsewhere_are_refused(content: bytes) -> None:
    with pytest.raises(PointerError, match=r"anthill databricks deploy|is not a path"):
        parse_pointer(content, VOLUME, "0.1.0")


@pytest.mark.parametrize(
    ("volume", "ok"),
    [
        pytest.param("/Volumes/anthill/default/wheels/", True, id="a-trailing-slash-is-dropped"),
        pytest.param("/Volumes/anthill/default", False, id="a-schema-is-not-a-volume"),
        pytest.param("/Volumes/anthill/default/wheels/sub", False, id="a-folder-in-a-volume-is-not-one"),
        pytest.param("/Volumes/anthill/../wheels", False, id="relative-segments"),
        pytest.param("dbfs:/Volumes/a/b/c", False, id="a-scheme"),
    ],
)
def test_volume_paths(volume: str, ok: bool) -> None:
    if ok:
        assert check_volume(volume) == volume.rstrip("/")
    else:
        with pytest.raises(ValueError, match="not a Unity Catalog volume"):
            check_volume(volume)
