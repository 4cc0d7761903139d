# syntax=docker/dockerfile:1.7
# clientvpn-operator image: a release build on Debian, copied into distroless/cc (glibc, CA
# certificates, no shell, no package manager), running as the numeric non-root user 65532 so that
# `runAsNonRoot` can be verified by the kubelet.
#
# Built outside the development environment (it has no Docker), e.g.:
#   docker build -t ghcr.io/clientvpn-operator/clientvpn-operator:0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/clientvpn-operator/clientvpn-operator:0.1.0 --push .
# The chart's default image is ghcr.io/clientvpn-operator/clientvpn-operator:<appVersion>.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM docker.io/library/rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
# aws-lc-sys (rustls' crypto provider) builds C with cc/cmake.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake make gcc g++ perl \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --package clientvpn-operator --bin clientvpn-operator \
 && install -D -m 0755 target/release/clientvpn-operator /out/clientvpn-operator \
 && /out/clientvpn-operator --version

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="clientvpn-operator" \
      org.opencontainers.image.description="Kubernetes operator for AWS EC2 Client VPN endpoints" \
      org.opencontainers.image.source="https://github.com/clientvpn-operator/clientvpn-operator" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build --chown=65532:65532 /out/clientvpn-operator /usr/local/bin/clientvpn-operator
USER 65532:65532
# 8080: /metrics, 8081: /healthz and /readyz
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/clientvpn-operator"]
CMD ["run"]
