# syntax=docker/dockerfile:1
#
# pipeleash as a small static container image: a statically linked (musl) release binary on
# distroless/static, which holds only CA certificates, time zone data and a non-root user.
#
#   docker build -t pipeleash .   # default features: aws, azure, gcp, parquet, object-store
#   docker run --rm -v "$PWD:/work" pipeleash audit --config pipeleash.toml
#
# See docs/running.md.

ARG RUST_VERSION=1.91

# Build stage: Alpine's Rust toolchain targets musl, whose binaries are static by default.
FROM rust:${RUST_VERSION}-alpine AS build
# ring (the TLS crypto of every cloud client) compiles C and assembly: it needs the musl
# headers and a C compiler.
RUN apk add --no-cache musl-dev gcc
WORKDIR /src
COPY . .
# Extra cargo features, comma-separated (`azure-certificate`, which also needs `apk add
# openssl-dev`); empty builds the default features.
ARG FEATURES=""
RUN cargo build --release --locked ${FEATURES:+--features "$FEATURES"} \
    && ./target/release/pipeleash --version \
    && mkdir -p /out/work \
    && cp target/release/pipeleash /out/pipeleash

# Final stage: no shell, no package manager; runs as the image's `nonroot` user (65532).
FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="pipeleash" \
      org.opencontainers.image.description="Least-privilege analyzer for the identities that CI/CD pipelines use in AWS, Azure and GCP" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/pipeleash /usr/local/bin/pipeleash
# The working directory holds `pipeleash.toml` and the snapshot store; owned by the user that
# runs pipeleash so that a bare `docker run` can write there (mount a volume to keep it).
COPY --from=build --chown=65532:65532 /out/work /work
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/pipeleash"]
CMD ["--help"]
