#!/usr/bin/env bash
# Runs Helm as a Go program at a pinned release, so CI and contributors need
# no Helm install: scripts/helm.sh lint deploy/helm/coesync
# The first run builds it (minutes); later runs reuse the binary.
set -euo pipefail
HELM_VERSION=v4.3.2
bin="${XDG_CACHE_HOME:-$HOME/.cache}/coesync/tools/helm-$HELM_VERSION"
if [ ! -x "$bin/helm" ]; then
  mkdir -p "$bin"
  GOFLAGS= GOBIN="$bin" go install "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}"
fi
exec "$bin/helm" "$@"
