# syntax=docker/dockerfile:1
# Container image of strands-runtime for AWS Bedrock AgentCore (linux/arm64,
# also builds for linux/amd64). Two stages: "build" compiles the one binary
# from Debian 12 -dev packages; the final stage is debian:12-slim with only
# the shared libraries it loads, a non-root user and a curl-free HEALTHCHECK.
#
# Each architecture is built natively (no --platform=$BUILDPLATFORM cross
# compile): on an arm64 host (Graviton, Apple silicon) at full speed, on an
# amd64 host under QEMU via buildx. See docs/deploy.md ("The image").
#   docker buildx build --platform linux/arm64 -t strands-runtime .
# Estimated size (docs/deploy.md): ~108 MB uncompressed for linux/arm64,
# ~89 MB for linux/amd64, ~33 MB compressed; debian:12-slim is most of it.

ARG DEBIAN_IMAGE=debian:12-slim

# ---- build stage: toolchain + -dev packages, Release build, stripped -------
FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config \
        libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev libssl-dev \
        zlib1g-dev libhiredis-dev libwslay-dev \
 && rm -rf /var/lib/apt/lists/*
# The context is only what the build needs (.dockerignore is an allowlist).
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build --target strands-runtime -j"$(nproc)" \
 && strip --strip-unneeded -o /strands-runtime /build/strands-runtime \
 && /strands-runtime --version

# ---- run stage: runtime libraries only -------------------------------------
FROM ${DEBIAN_IMAGE}
LABEL org.opencontainers.image.title="strands-runtime" \
      org.opencontainers.image.description="Strands-style agent runtime in C for AWS Bedrock AgentCore"
# libhiredis0.14 is for the shared (Redis) session store, libwslay1 for the
# WebSocket framing of /ws; the rest are what the binary links
# (libmicrohttpd, libcurl, jansson, libcrypto, zlib) and the CA bundle
# libcurl verifies AWS endpoints with.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmicrohttpd12 libcurl4 libjansson4 libssl3 zlib1g libhiredis0.14 \
        libwslay1 \
        ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt \
           /var/log/dpkg.log \
 && groupadd --gid 1000 strands \
 && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin strands
COPY --from=build /strands-runtime /usr/local/bin/strands-runtime
# Fails the build here if a shared library is missing from the list above.
RUN ["/usr/local/bin/strands-runtime", "--version"]

USER 1000:1000
EXPOSE 8080
# --healthcheck GETs /ping on $PORT (default 8080) with a 3 s limit and exits
# 0 only on "200 Healthy": no curl needed in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/strands-runtime", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/strands-runtime"]
