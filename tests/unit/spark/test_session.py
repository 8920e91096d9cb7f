"""Local Spark's S3A wiring, without starting a JVM."""

from __future__ import annotations

import pytest

from anthill_spark.jars import JarsError, bundled_hadoop_version, jar_name, s3a_artifacts
from anthill_spark.session import s3a_settings


def test_s3a_jars_match_pysparks_hadoop() -> None:
    hadoop = bundled_hadoop_version()
    aws, sdk = s3a_artifacts()
    assert aws == f"org.apache.hadoop:hadoop-aws:{hadoop}"
    assert sdk.startswith("software.amazon.awssdk:bundle:2.")
    assert jar_name(aws) == f"hadoop-aws-{hadoop}.jar"


def test_an_unknown_hadoop_is_a_clear_error() -> None:
    with pytest.raises(JarsError, match=r"Hadoop 9\.9\.9.*known: \['3\.4\.1'\]"):
        s3a_artifacts("9.9.9")


def test_s3a_settings_for_aws() -> None:
    settings = s3a_settings({"AWS_REGION": "eu-west-1"})
    assert settings["spark.hadoop.fs.s3.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert settings["spark.hadoop.fs.s3a.endpoint.region"] == "eu-west-1"
    assert "spark.hadoop.fs.s3a.endpoint" not in settings  # AWS itself: virtual-hosted style, TLS


def test_s3a_settings_for_another_s3_api() -> None:
    settings = s3a_settings(
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_S3": "http://s3.test:80"}
    )
    assert settings["spark.hadoop.fs.s3a.endpoint"] == "http://s3.test:80"  # the S3-specific one wins
    assert settings["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert settings["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert not any(
        "secret" in key.lower() or "access.key" in key for key in settings
    )  # credentials: the chain
