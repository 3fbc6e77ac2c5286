#!/usr/bin/env bash
# Renders deploy/kubernetes/ from the Helm chart in both modes, so the
# plain manifests never drift from it. --check fails when they differ.
set -euo pipefail
cd "$(dirname "$0")/.."
chart=deploy/helm/coesync
render() { # mode, output
  {
    echo "# Rendered from $chart with $chart/ci/$1-values.yaml by scripts/render-manifests.sh; do not edit."
    scripts/helm.sh template coesync "$chart" -f "$chart/ci/$1-values.yaml"
  } > "$2"
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
render postgres "$tmp/postgres.yaml"
render sqlite "$tmp/sqlite.yaml"
if [ "${1:-}" = --check ]; then
  diff -u deploy/kubernetes/coesync.yaml "$tmp/postgres.yaml" && diff -u deploy/kubernetes/sqlite/coesync.yaml "$tmp/sqlite.yaml" \
    || { echo "deploy/kubernetes differs from the chart: run scripts/render-manifests.sh"; exit 1; }
else
  mkdir -p deploy/kubernetes/sqlite
  cp "$tmp/postgres.yaml" deploy/kubernetes/coesync.yaml
  cp "$tmp/sqlite.yaml" deploy/kubernetes/sqlite/coesync.yaml
fi
