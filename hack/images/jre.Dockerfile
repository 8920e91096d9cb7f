# local/anthill-jre: the local base plus Debian's Java 17 runtime, standing in for the Spark image's
# eclipse-temurin JRE base (`anthill dev images build` passes it as JRE_IMAGE).
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/*
