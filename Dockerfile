# syntax=docker/dockerfile:1
#
# posture's container image: one binary, `posture`, running `posture serve` by default.
#
#   docker build -t posture:0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#   docker run --read-only --tmpfs /tmp -v posture-data:/var/lib/posture -p 8080:8080 \
#     --env-file posture.env posture:0.1.0
#
# The root filesystem may be read-only: posture writes only its SQLite database (the volume
# /var/lib/posture; the default POSTURE_DATABASE_URL points there) and scratch clones under
# /tmp (give it a tmpfs or an emptyDir). With PostgreSQL (`POSTURE_DATABASE_URL=postgres://…`)
# the volume is not needed. Other commands run the same way: `docker run … posture migrate`.

ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
WORKDIR /build
# Only what the build reads (.dockerignore keeps the rest out of the context): the manifest
# and lock file, the sources, what they embed at compile time (the SQL migrations, the
# markdown templates, the GitHub App manifest), and the benches and examples that Cargo's
# manifest refers to.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
# The rule -> weakness table de-duplication embeds (src/analyze/weakness.rs).
COPY data ./data
COPY deploy/github/app-manifest.json ./deploy/github/app-manifest.json
COPY benches ./benches
COPY examples ./examples
# libgit2 and SQLite are compiled in; the binary needs only libc, libgcc_s and zlib at run
# time, all of which debian:bookworm-slim has.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/build/target \
    cargo build --release --locked --bin posture \
    && install -m 0755 target/release/posture /usr/local/bin/posture

FROM debian:${DEBIAN_RELEASE}-slim

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="posture" \
      org.opencontainers.image.description="Application security posture bot: diff-aware, de-duplicated, prioritised scanner findings for GitHub and GitLab" \
      org.opencontainers.image.source="https://github.com/posture-dev/posture" \
      org.opencontainers.image.url="https://github.com/posture-dev/posture" \
      org.opencontainers.image.documentation="https://github.com/posture-dev/posture#readme" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="posture" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# ca-certificates: TLS to the forges and the KEV/EPSS feeds.
# git: GitHub changes too large for the API are fetched with the git CLI (a blobless,
#   shallow partial clone, which libgit2 cannot do; src/forge/github/clone.rs).
# curl: the HEALTHCHECK below (posture has no built-in probe command); git already pulls
#   in libcurl, so it adds one small binary.
# DL3008 (pin apt versions) is ignored on purpose: Debian's security archive drops
# superseded versions, so exact pins would break rebuilds exactly when a fix is published;
# the base image's release (bookworm) pins the package set.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl git \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 posture \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/posture \
       --no-create-home --shell /usr/sbin/nologin posture \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/posture

COPY --from=builder /usr/local/bin/posture /usr/local/bin/posture

ENV HOME=/var/lib/posture \
    POSTURE_DATABASE_URL=sqlite:///var/lib/posture/posture.db
VOLUME ["/var/lib/posture"]
WORKDIR /var/lib/posture

USER 10001:10001
EXPOSE 8080

# /healthz answers while the process is up; orchestrators should probe /readyz (database
# reachable) for readiness themselves.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["curl", "--fail", "--silent", "--show-error", "--max-time", "4", "--output", "/dev/null", "http://127.0.0.1:8080/healthz"]

ENTRYPOINT ["posture"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
