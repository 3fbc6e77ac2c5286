package store

import (
	"strings"
	"testing"

	"github.com/riverqueue/river"
)

type dispatchTestArgs struct {
	Key string `json:"key" river:"unique"`
	N   int    `json:"n"`
}

func (dispatchTestArgs) Kind() string { return "dispatch_test" }

func TestDispatchSet(t *testing.T) {
	enc := func(jobs ...Job) []byte {
		t.Helper()
		b, err := encodeJobs(jobs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := Job{Args: dispatchTestArgs{Key: "P1", N: 1}}
	var set dispatchSet
	// The same job from two deliveries (one incident resolved twice in a
	// batch) is inserted once; another job is kept; the options travel.
	prio := Job{Args: dispatchTestArgs{Key: "P2"}, Opts: &river.InsertOpts{Priority: 2}}
	for i, raw := range [][]byte{enc(a), enc(a), enc(prio)} {
		if !set.add("pagerduty", string(rune('a'+i)), raw) {
			t.Fatalf("row %d not taken", i)
		}
	}
	if len(set.params) != 2 {
		t.Fatalf("params = %d, want 2 (the repeated job once)", len(set.params))
	}
	got, ok := set.params[0].Args.(dispatchTestArgs)
	if !ok || got != (dispatchTestArgs{Key: "P1", N: 1}) {
		t.Errorf("first job = %#v, want the typed args back (River reads their unique tags)", set.params[0].Args)
	}
	if o := set.params[1].InsertOpts; o == nil || o.Priority != 2 {
		t.Errorf("second job's options = %+v, want priority 2", o)
	}
	// A kind this process does not know stays pending and is reported.
	if set.add("pagerduty", "z", []byte(`[{"kind":"from_a_newer_version","args":{}}]`)) {
		t.Fatal("a job of an unknown kind was taken")
	}
	if err := set.err(); err == nil || !strings.Contains(err.Error(), "from_a_newer_version") || !strings.Contains(err.Error(), "pagerduty/z") {
		t.Fatalf("err = %v, want the row and the kind named", err)
	}
}
