# local/anthill-maven: local/anthill-jre plus Debian's Maven, standing in for the Spark image's Maven base
# (`anthill dev images build` passes it as MAVEN_IMAGE).
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends maven \
 && rm -rf /var/lib/apt/lists/*
