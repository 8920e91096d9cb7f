# syntax=docker/dockerfile:1.7
# The Anthill operator: `anthill operator run` (packages `anthill-api` and `anthill-operator`).
# Build from the repository root:  docker build -f docker/operator.Dockerfile -t anthill-operator .
#
# Base images are pinned by exact version and by the digest of their multi-platform index, as published
# in docker-library/repo-info; update both together.
ARG PYTHON_IMAGE=python:3.12.14-slim-bookworm@sha256:0f5b26b9518d002b6173fd61daad821fa340635ebfec5bba471013f9ca114579
# The base's interpreter (a local Debian base passes /usr/bin/python3: `anthill dev images build`).
ARG PYTHON=/usr/local/bin/python3

FROM ${PYTHON_IMAGE} AS build
ARG PYTHON
# pip and uv trust the system's CA bundle (where a build behind a TLS-inspecting proxy mounts its own).
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CERT=/etc/ssl/certs/ca-certificates.crt UV_SYSTEM_CERTS=1 \
    UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
# uv in a venv of its own (a Debian base has no system-wide pip), pinned by the hashes in uv.lock.
COPY docker/uv-requirements.txt /tmp/uv-requirements.txt
RUN "${PYTHON}" -m venv /opt/uv \
 && /opt/uv/bin/pip install --no-cache-dir --require-hashes --only-binary=:all: -r /tmp/uv-requirements.txt
ENV PATH=/opt/uv/bin:$PATH
WORKDIR /src
# The workspace's packages this image runs, and only those (tests/unit/docker reads this line).
ARG PACKAGES="anthill-api anthill-operator"
# uv reads every member's pyproject.toml to load the workspace; only the installed ones bring sources.
COPY pyproject.toml uv.lock README.md ./
COPY crds/pyproject.toml crds/pyproject.toml
COPY operator/pyproject.toml operator/pyproject.toml
COPY ingest/pyproject.toml ingest/pyproject.toml
COPY spark/pyproject.toml spark/pyproject.toml
COPY sandbox/pyproject.toml sandbox/pyproject.toml
COPY devkit/pyproject.toml devkit/pyproject.toml
COPY crds/src/ crds/src/
COPY operator/src/ operator/src/
# Third-party dependencies exactly as locked (with hashes), then our own wheels.
RUN uv export --frozen --no-dev --no-emit-workspace $(printf -- "--package %s " ${PACKAGES}) \
      -o /tmp/requirements.txt \
 && for package in ${PACKAGES}; do uv build --package "$package" --wheel --out-dir /dist || exit 1; done \
 && uv venv /opt/anthill --python "${PYTHON}" \
 && uv pip install --python /opt/anthill/bin/python --require-hashes -r /tmp/requirements.txt \
 && uv pip install --python /opt/anthill/bin/python --no-deps /dist/*.whl

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="anthill-operator" \
      org.opencontainers.image.description="Anthill's kopf operator: MarketFeeds to CronJobs, MedallionPipelines to jobs"
RUN groupadd --system --gid 65532 anthill \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin anthill
COPY --from=build /opt/anthill /opt/anthill
ENV PATH=/opt/anthill/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 65532:65532
# Metrics and liveness (ANTHILL_METRICS_PORT, ANTHILL_HEALTH_PORT).
EXPOSE 9090 8080
ENTRYPOINT ["anthill"]
CMD ["operator", "run"]
