#!/usr/bin/env bash
# Builds a release into dist/: static binaries for linux and darwin on amd64
# and arm64, SHA256SUMS, a CycloneDX SBOM, and the container image as an
# OCI image layout (no container daemon needed; push it with
# `crane push dist/image ghcr.io/coesync/coesync:$VERSION` or skopeo).
#
#   scripts/release.sh v1.2.3      # a tagged release: the tag must be HEAD
#   scripts/release.sh --snapshot  # what CI runs: version from git describe
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
CYCLONEDX_VERSION=v1.10.0
VERSION_VAR=github.com/coesync/coesync/sync/version.Version

if [ "${1:-}" = --snapshot ]; then
  version="$(git describe --tags --always --dirty 2>/dev/null || echo 0.0.0)-snapshot"
elif [[ "${1:-}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  version=$1
  if [ "$(git rev-parse "$version^{commit}" 2>/dev/null)" != "$(git rev-parse HEAD)" ]; then
    echo "release: tag $version is not HEAD" >&2; exit 2
  fi
  if [ -n "$(git status --porcelain)" ]; then
    echo "release: the work tree has uncommitted changes" >&2; exit 2
  fi
else
  echo "usage: scripts/release.sh vX.Y.Z | --snapshot" >&2; exit 2
fi
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)

rm -rf dist && mkdir -p dist
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do
  os=${target%/*} arch=${target#*/}
  out="dist/coesync-$os-$arch"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X $VERSION_VAR=$version" -o "$out" ./cmd/coesync
  echo "built $out"
done
# The binary says the version it was stamped with.
host="dist/coesync-$(go env GOOS)-$(go env GOARCH)"
if [ -x "$host" ] && ! "$host" version | grep -qF "$version"; then
  echo "release: $host does not report version $version" >&2; exit 1
fi

GOFLAGS= go run "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$CYCLONEDX_VERSION" \
  app -json -licenses=false -main cmd/coesync -output dist/coesync.cdx.json .
echo "wrote dist/coesync.cdx.json"

(cd scripts/ociimage && GOFLAGS= go run . -out ../../dist/image -version "$version" -revision "$revision" \
  -created "$created" -bin linux/amd64=../../dist/coesync-linux-amd64 -bin linux/arm64=../../dist/coesync-linux-arm64)
echo "wrote dist/image (OCI layout, linux/amd64 and linux/arm64)"

(cd dist && sha256sum coesync-* coesync.cdx.json > SHA256SUMS)
echo "wrote dist/SHA256SUMS"
cat dist/SHA256SUMS
