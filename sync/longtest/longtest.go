// Package longtest is the switch for the long process-level tests: runs
// that build coesync and drive the binary for a minute or more (chaos,
// replicas, migrate-store, SIGTERM under load, bench smoke). The default
// `go test ./...` skips them so it stays fast; .ci/run sets the switch.
package longtest

import (
	"os"
	"testing"
)

// Env is the variable that turns the long tests on when set to 1.
const Env = "COESYNC_LONG_TESTS"

// SkipMessage is what a skipped long test says.
const SkipMessage = "long process-level test: set " + Env + "=1 (.ci/run does)"

// Enabled reports whether the long tests run: Env is 1 and -short is off.
func Enabled() bool {
	return os.Getenv(Env) == "1" && !testing.Short()
}

// Require skips t unless the long tests are enabled.
func Require(t testing.TB) {
	t.Helper()
	if !Enabled() {
		t.Skip(SkipMessage)
	}
}

// Iterations is how many random inputs a property test draws: full when
// the long tests are enabled, else quick. The seeds are fixed, so the quick
// run checks a prefix of the full run's inputs; scripts/fuzz.sh goes deeper.
func Iterations(full, quick int) int {
	if Enabled() {
		return full
	}
	return quick
}
