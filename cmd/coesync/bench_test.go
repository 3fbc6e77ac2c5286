package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// TestBenchSmoke runs coesync bench at a tiny size: every key of the JSON
// is there, the throughputs are positive and every request got a 202. It
// asserts nothing about speed.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("bench smoke test in -short")
	}
	var out, errb bytes.Buffer
	args := []string{"bench", "--json", "--requests", "200", "--concurrency", "4", "--duration", "10s", "--rate-duration", "200ms"}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("bench: %v\nstderr: %s", err, errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	num := func(m map[string]any, k string) float64 {
		t.Helper()
		v, ok := m[k].(float64)
		if !ok {
			t.Fatalf("key %q missing or not a number in %s", k, out.String())
		}
		return v
	}
	ingest, ok := got["ingest"].(map[string]any)
	if !ok {
		t.Fatalf("no ingest object in %s", out.String())
	}
	for _, k := range []string{"rps", "bare_rps", "ratio", "p50_ms", "p99_ms", "p99_ms_at_1000"} {
		if v := num(ingest, k); v <= 0 {
			t.Errorf("ingest.%s = %v, want > 0", k, v)
		}
	}
	num(got, "rss_mib")
	num(got, "binary_mib")
	if v := num(ingest, "non_202"); v != 0 {
		t.Errorf("%v requests were not answered 202", v)
	}
	if n := num(ingest, "requests"); n != 200 {
		t.Errorf("coesync run measured %v requests, want 200", n)
	}
	if n := num(ingest, "bare_requests"); n != 200 {
		t.Errorf("bare run measured %v requests, want 200", n)
	}
	if n := num(ingest, "rate_requests"); n != 200 {
		t.Errorf("fixed-rate run measured %v requests, want 200", n)
	}
}
