# syntax=docker/dockerfile:1
# A local build from source. Released images are made by scripts/release.sh
# without a daemon or a base image (the static binary, CA certificates and
# a non-root user), reproducible from the tag.
# Build: a static, cgo-free binary (the SQLite driver is pure Go).
FROM golang:1.26-bookworm AS build
ARG VERSION=devel
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags="-s -w -X github.com/coesync/coesync/sync/version.Version=${VERSION}" -o /out/coesync ./cmd/coesync

# Run: distroless static as a non-root user; state lives in /data.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=devel
LABEL org.opencontainers.image.title="coesync" \
      org.opencontainers.image.description="Turns resolved PagerDuty incidents into Correction-of-Error reviews in Jira" \
      org.opencontainers.image.source="https://github.com/coesync/coesync" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/coesync /usr/local/bin/coesync
WORKDIR /data
ENV COESYNC_LISTEN_ADDR=:8080 \
    COESYNC_DATABASE_URL=/data/coesync.db
USER nonroot:nonroot
# 8080: the webhook listener (/webhooks/*, /healthz), the one to publish.
# 9090: the admin listener (/, /report, /metrics, /readyz). It defaults to
# 127.0.0.1:9090, loopback inside the container, so it cannot be reached
# from outside until COESYNC_ADMIN_LISTEN_ADDR binds it wider (for example
# :9090 for probes and scraping); never publish it to the internet.
EXPOSE 8080 9090
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/coesync"]
CMD ["serve"]
