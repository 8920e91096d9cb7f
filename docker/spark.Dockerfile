# syntax=docker/dockerfile:1.7
# The medallion jobs for MedallionPipelines on the Kubernetes runtime: `anthill spark run --lake <uri>`, and
# the wheel's console scripts `bronze_to_silver`, `silver_to_gold` and `all` (packages `anthill-spark`, and
# `anthill-api` for the `anthill` command). PySpark brings Spark itself; the JVM is Temurin 17; Delta's jars
# are fetched at build time into the cache anthill_spark.jars reads (ANTHILL_TOOLS_DIR), so runs never need
# Maven or the network.
# Build from the repository root:  docker build -f docker/spark.Dockerfile -t anthill-spark .
#
# Base images are pinned by exact version and by the digest of their multi-platform index, as published
# in docker-library/repo-info; update both together. Ubuntu 24.04 (noble) provides Python 3.12.
ARG JRE_IMAGE=eclipse-temurin:17.0.20_8-jre-noble@sha256:76bf6d763e84e4d286d5ee3df61e4adeca214977f83c7d8d2327b93db582dd9d
ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17-noble@sha256:42a3ac393abbc64dae6c96703e5ead2e921fe9103371ac58b5b404b0d6a26502
ARG DELTA_VERSION=4.0.1
ARG HADOOP_VERSION=3.4.1
ARG AWS_SDK_VERSION=2.24.6

FROM ${MAVEN_IMAGE} AS jars
ARG DELTA_VERSION
ARG HADOOP_VERSION
ARG AWS_SDK_VERSION
# Delta for the tables; hadoop-aws and the AWS SDK bundle for s3:// lakes (the versions PySpark's bundled
# Hadoop was built against: anthill_spark.jars.s3a_artifacts). Each jar must have the SHA-256 pinned in
# spark-jars.sha256 (anthill_spark.jars.SHA256), and no other jar may be there: the build fails otherwise.
COPY docker/spark-jars.sha256 /tmp/spark-jars.sha256
RUN for coordinate in "io.delta:delta-spark_2.13:${DELTA_VERSION}" "io.delta:delta-storage:${DELTA_VERSION}" \
      "org.apache.hadoop:hadoop-aws:${HADOOP_VERSION}" "software.amazon.awssdk:bundle:${AWS_SDK_VERSION}"; do \
      mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
        "-Dartifact=${coordinate}" -DoutputDirectory=/jars || exit 1; \
    done \
 && cd /jars && sha256sum --check --strict /tmp/spark-jars.sha256 \
 && [ "$(ls /jars | wc -l)" -eq "$(wc -l < /tmp/spark-jars.sha256)" ]

FROM ${JRE_IMAGE} AS python
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*

FROM python AS build
# pip and uv trust the system's CA bundle (where a build behind a TLS-inspecting proxy mounts its own).
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt UV_SYSTEM_CERTS=1 \
    UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
# uv pinned by the hashes in uv.lock.
COPY docker/uv-requirements.txt /tmp/uv-requirements.txt
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m pip install --no-cache-dir --break-system-packages --require-hashes --only-binary=:all: \
      -r /tmp/uv-requirements.txt
WORKDIR /src
# The workspace's packages this image runs, and only those (tests/unit/docker reads this line).
ARG PACKAGES="anthill-api anthill-spark"
# uv reads every member's pyproject.toml to load the workspace; only the installed ones bring sources.
COPY pyproject.toml uv.lock README.md ./
COPY crds/pyproject.toml crds/pyproject.toml
COPY operator/pyproject.toml operator/pyproject.toml
COPY ingest/pyproject.toml ingest/pyproject.toml
COPY spark/pyproject.toml spark/pyproject.toml
COPY sandbox/pyproject.toml sandbox/pyproject.toml
COPY devkit/pyproject.toml devkit/pyproject.toml
COPY crds/src/ crds/src/
COPY spark/src/ spark/src/
# Third-party dependencies exactly as locked (with hashes), then our own wheels.
RUN uv export --frozen --no-dev --no-emit-workspace --extra local $(printf -- "--package %s " ${PACKAGES}) \
      -o /tmp/requirements.txt \
 && for package in ${PACKAGES}; do uv build --package "$package" --wheel --out-dir /dist || exit 1; done \
 && uv venv /opt/anthill --python /usr/bin/python3 \
 && uv pip install --python /opt/anthill/bin/python --require-hashes -r /tmp/requirements.txt \
 && uv pip install --python /opt/anthill/bin/python --no-deps /dist/*.whl

FROM python
ARG DELTA_VERSION
LABEL org.opencontainers.image.title="anthill-spark" \
      org.opencontainers.image.description="Anthill medallion jobs: PySpark bronze to silver to gold on Delta"
RUN groupadd --system --gid 65532 anthill \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin anthill
COPY --from=build /opt/anthill /opt/anthill
COPY --from=jars /jars/ /opt/anthill-tools/jars/
ENV PATH=/opt/anthill/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp \
    ANTHILL_TOOLS_DIR=/opt/anthill-tools PYSPARK_PYTHON=/opt/anthill/bin/python
USER 65532:65532
ENTRYPOINT ["anthill"]
CMD ["spark", "--help"]
