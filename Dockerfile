# syntax=docker/dockerfile:1
#
# Custos container image: a static binary on distroless, run as uid 65532.
#
#   docker build -t custos:dev --build-arg VERSION=$(git describe --tags --always) \
#       --build-arg COMMIT=$(git rev-parse HEAD) .
#   docker run --rm custos:dev --help
#
# The default command is `custos serve --config /etc/custos/custos.yaml`; mount
# the configuration there. The policies are embedded in the binary; a copy is
# also at /etc/custos/policies for `policy.dir` (directory mode, hot reload).

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
ARG COMMIT=unknown
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/custos ./cmd/custos

# The served policy files (no Go, no Rego tests) for directory mode, and
# empty directories for the audit log and the checkpoint copy, owned by the
# runtime user (a volume mounted there starts with that owner).
RUN mkdir -p /out/policies /out/state \
    && cd policies \
    && find . -type f \( -name .manifest -o -name 'data.json' -o -name 'data.yaml' -o -name '*.rego' \) \
         ! -name '*_test.rego' -exec cp --parents {} /out/policies/ \; \
    && test -s /out/policies/.manifest

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="custos" \
      org.opencontainers.image.description="Privacy-first compliance gateway for LLM APIs" \
      org.opencontainers.image.source="https://github.com/custos-gateway/custos" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"

COPY --from=build /out/custos /usr/local/bin/custos
COPY --from=build /out/policies /etc/custos/policies
COPY --from=build --chown=65532:65532 /out/state /var/lib/custos
COPY --from=build --chown=65532:65532 /out/state /var/lib/custos-checkpoints

USER 65532:65532
WORKDIR /var/lib/custos
# 8080: the API (listen); 9090: the metrics listener (metrics.listen).
EXPOSE 8080 9090
VOLUME ["/var/lib/custos", "/var/lib/custos-checkpoints"]
ENTRYPOINT ["/usr/local/bin/custos"]
CMD ["serve", "--config", "/etc/custos/custos.yaml"]
