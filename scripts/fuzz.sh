#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME each (default 5m), one after the
# other. Exits non-zero when any target finds a failing input (go test
# writes it under the package's testdata/fuzz/<Target>/ to be committed
# as a regression seed).
#
#   FUZZTIME=60s scripts/fuzz.sh
#   FUZZTIME=10m FUZZMINIMIZETIME=60s scripts/fuzz.sh
#   FUZZPARALLEL=1 scripts/fuzz.sh   # one worker: leaves the other cores free
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-5m}
# Minimizing each new interesting input may take up to 60 s by default,
# which starves short runs on big seeds (webhook payloads of tens of KB).
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-10s}

# package  target
targets=(
	"./connectors/pagerduty FuzzVerifySignature"
	"./connectors/pagerduty FuzzDecodeEvent"
	"./connectors/pagerduty FuzzDecodeEventMatchesEncodingJSON"
	"./connectors/github FuzzDecodeIssuesEvent"
	"./connectors/github FuzzVerifySignature"
	"./connectors/jira FuzzDecodeWebhook"
	"./connectors/jira FuzzVerifyWebhook"
	"./sync/coe FuzzEscapers"
	"./config FuzzParseRules"
)

failed=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "=== $pkg $name ($FUZZTIME)"
	if ! go test ${FUZZPARALLEL:+-parallel "$FUZZPARALLEL"} -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg"; then
		failed+=("$pkg $name")
	fi
done

if ((${#failed[@]} > 0)); then
	echo "fuzz findings (or failures) in:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "all ${#targets[@]} fuzz targets ran $FUZZTIME without a finding"
