package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
)

// ghSign is the X-Hub-Signature-256 value GitHub sends for body.
func ghSign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func jiraSign(secret string, body []byte) string {
	return jiratest.SignWebhook([]byte(secret), body)
}

// pdWrites counts the requests that would change PagerDuty (notes).
func pdWrites(e *demoEnv) int {
	n := 0
	for _, r := range e.PD.Requests() {
		if r.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// storeState is what a bad request must leave unchanged.
type storeState struct {
	deliveries map[string]int
	jobs       map[int64]store.JobInfo
	writes     [3]int // PagerDuty, Jira, GitHub
}

func snapshot(t *testing.T, e *demoEnv) storeState {
	t.Helper()
	ctx := context.Background()
	d, err := e.App.Store.DeliveryCounts(ctx, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// A webhook's jobs reach the queue through the dispatch job committed
	// with it; dispatch now so the jobs are there to compare.
	if _, err := e.App.Store.DispatchDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	jobs, err := e.App.Store.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := storeState{deliveries: d, jobs: map[int64]store.JobInfo{}, writes: [3]int{pdWrites(e), jiraWrites(e), ghWrites(e)}}
	for _, j := range jobs {
		s.jobs[j.ID] = j
	}
	return s
}

// newJobs are the jobs in after that were not in before, but for the
// periodic ones (enqueued on start, whenever River's scheduler gets to it)
// and the dispatch jobs that carry a webhook's jobs to the queue.
func newJobs(before, after storeState) []store.JobInfo {
	var out []store.JobInfo
	for id, j := range after.jobs {
		switch j.Kind {
		case engine.ReconcileArgs{}.Kind(), engine.DeliverReportArgs{}.Kind(), engine.RemindArgs{}.Kind(), store.DispatchArgs{}.Kind(), store.PruneArgs{}.Kind():
			continue
		}
		if _, ok := before.jobs[id]; !ok {
			out = append(out, j)
		}
	}
	return out
}

// TestBadWebhookInputIsRejectedAndHarmless sends every kind of bad input to
// the three webhook endpoints: each gets its status code, and none stores a
// delivery it should not, queues a job or writes to PagerDuty, Jira or
// GitHub.
func TestBadWebhookInputIsRejectedAndHarmless(t *testing.T) {
	t.Parallel()
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	settle(t, e) // the periodic jobs that run on start

	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	known := pdtest.SimpleIncident("PBAD001", base)
	e.PD.AddIncident(known)
	ghost := pdtest.SimpleIncident("PGHOST9", base) // PagerDuty answers 404

	// Bodies that would queue a job if they got through.
	pdBody := pdtest.ResolvedWebhook(known, "evt-bad-1")
	pdOther := pdtest.ResolvedWebhook(known, "evt-bad-2")
	ghBody := []byte(`{"action":"edited","issue":{"number":7,"title":"[OPS-1] x","state":"open",` +
		`"body":"<!-- coesync:action-item:OPS-2 -->"},"repository":{"full_name":"` + demoRepo + `"},"sender":{"login":"octocat"}}`)
	ghOther := bytes.Replace(ghBody, []byte(`"number":7`), []byte(`"number":8`), 1)
	ghStar := bytes.Replace(ghBody, []byte(`"edited"`), []byte(`"created"`), 1)
	jiraBody := []byte(`{"timestamp":1763625600000,"webhookEvent":"jira:issue_updated","issue":{"key":"OPS-2","fields":{"parent":{"key":"OPS-1"},"labels":[]}},"changelog":{"items":[{"field":"status","fieldId":"status"}]}}`)
	jiraOther := bytes.Replace(jiraBody, []byte("OPS-2"), []byte("OPS-3"), 1)

	big := bytes.Repeat([]byte(" "), MaxBodyForTest+1)
	deep := bytes.Repeat([]byte("["), 100_000)
	notJSON := []byte("hello, not json")
	notEnvelope := []byte(`{"messages":[]}`)
	garbage := strings.Repeat("v1=zz, v2=, ,,,=,sha256=,", 40)

	type row struct {
		name    string
		path    string // with query
		method  string
		header  map[string]string
		body    []byte
		want    int
		stored  bool // an accepted delivery that queues nothing
		newJobs int
		after   func(t *testing.T, jobs []store.JobInfo)
	}
	pd := func(name string, body []byte, sig string, want int) row {
		h := map[string]string{"Content-Type": "application/json"}
		if sig != "" {
			h["X-PagerDuty-Signature"] = sig
		}
		return row{name: "pagerduty/" + name, path: "/webhooks/pagerduty", method: http.MethodPost, header: h, body: body, want: want}
	}
	gh := func(name, event string, body []byte, sig string, want int) row {
		h := map[string]string{"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": "gh-" + name}
		if sig != "" {
			h["X-Hub-Signature-256"] = sig
		}
		return row{name: "github/" + name, path: "/webhooks/github", method: http.MethodPost, header: h, body: body, want: want}
	}
	jr := func(name, query string, body []byte, sig string, want int) row {
		h := map[string]string{"Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": "jira-" + name}
		if sig != "" {
			h["X-Hub-Signature"] = sig
		}
		p := "/webhooks/jira"
		if query != "" {
			p += "?secret=" + url.QueryEscape(query)
		}
		return row{name: "jira/" + name, path: p, method: http.MethodPost, header: h, body: body, want: want}
	}
	with := func(r row, f func(*row)) row { f(&r); return r }
	method := func(r row, m string) row {
		return with(r, func(r *row) { r.method, r.name = m, r.name+" "+m })
	}
	ctype := func(r row, ct string) row {
		return with(r, func(r *row) { r.header["Content-Type"] = ct })
	}
	stored := func(r row) row { return with(r, func(r *row) { r.stored = true }) }

	unknownPD := []byte(`{"event":{"id":"evt-bad-svc","event_type":"service.updated","resource_type":"service","occurred_at":"2026-11-20T08:00:00Z","data":{"id":"PSVC1","type":"service"}}}`)
	unknownJira := []byte(`{"timestamp":1763625600000,"webhookEvent":"comment_created","issue":{"key":"OPS-2","fields":{"parent":{"key":"OPS-1"}}}}`)
	ghostBody := pdtest.ResolvedWebhook(ghost, "evt-ghost-9")
	ghLabeled := bytes.Replace(ghBody, []byte(`"edited"`), []byte(`"labeled"`), 1)
	// Its own payload: the "unknown issues action" row sends ghLabeled as
	// JSON, and the same payload again is a replay.
	ghUnlabeled := bytes.Replace(ghBody, []byte(`"edited"`), []byte(`"unlabeled"`), 1)
	ghForm := []byte(url.Values{"payload": {string(ghUnlabeled)}}.Encode())

	rows := []row{
		pd("missing signature", pdBody, "", 401),
		pd("wrong secret", pdBody, pdtest.Sign("not-the-secret", pdBody), 401),
		pd("signature of another body", pdBody, pdtest.Sign(demoSecret, pdOther), 401),
		// The right signature past the 16 entries looked at does not count.
		pd("many garbage entries", pdBody, garbage+pdtest.Sign(demoSecret, pdBody), 401),
		pd("empty body", nil, pdtest.Sign(demoSecret, nil), 400),
		pd("body over 1 MiB", big, pdtest.Sign(demoSecret, big), 413),
		pd("not JSON", notJSON, pdtest.Sign(demoSecret, notJSON), 400),
		pd("JSON, not an envelope", notEnvelope, pdtest.Sign(demoSecret, notEnvelope), 400),
		stored(pd("unknown event type", unknownPD, pdtest.Sign(demoSecret, unknownPD), 202)),
		pd("deeply nested", deep, pdtest.Sign(demoSecret, deep), 400),
		ctype(pd("wrong content type", pdBody, pdtest.Sign(demoSecret, pdBody), 415), "text/plain"),
		ctype(pd("unparsable content type", pdBody, pdtest.Sign(demoSecret, pdBody), 415), "application/json; =;"),
		method(pd("", nil, "", 405), http.MethodGet),
		method(pd("", pdBody, pdtest.Sign(demoSecret, pdBody), 405), http.MethodPut),

		gh("missing signature", "issues", ghBody, "", 401),
		gh("wrong secret", "issues", ghBody, ghSign("not-the-secret", ghBody), 401),
		gh("signature of another body", "issues", ghBody, ghSign(demoGHSecret, ghOther), 401),
		gh("many garbage entries", "issues", ghBody, garbage+ghSign(demoGHSecret, ghBody), 401),
		gh("sha1 signature", "issues", ghBody, "sha1="+strings.Repeat("ab", 20), 401),
		gh("empty body", "issues", nil, ghSign(demoGHSecret, nil), 400),
		gh("body over 1 MiB", "issues", big, ghSign(demoGHSecret, big), 413),
		gh("not JSON", "issues", notJSON, ghSign(demoGHSecret, notJSON), 400),
		gh("JSON, not an issues event", "issues", notEnvelope, ghSign(demoGHSecret, notEnvelope), 400),
		gh("no event header", "", ghBody, ghSign(demoGHSecret, ghBody), 400),
		with(gh("no delivery header", "issues", ghBody, ghSign(demoGHSecret, ghBody), 400), func(r *row) { delete(r.header, "X-GitHub-Delivery") }),
		// Another body: ghBody under a fresh delivery id would be a replay
		// of this one (deduplicated on the body's hash), and the control
		// below sends ghBody.
		stored(gh("unknown event type", "star", ghStar, ghSign(demoGHSecret, ghStar), 202)),
		stored(gh("unknown issues action", "issues", ghLabeled, ghSign(demoGHSecret, ghLabeled), 202)),
		gh("deeply nested", "issues", deep, ghSign(demoGHSecret, deep), 400),
		ctype(gh("wrong content type", "issues", ghBody, ghSign(demoGHSecret, ghBody), 415), "text/html"),
		// GitHub's default content type: the JSON in a payload field, the
		// signature over the form as sent.
		stored(ctype(gh("form-encoded", "issues", ghForm, ghSign(demoGHSecret, ghForm), 202), "application/x-www-form-urlencoded")),
		ctype(gh("form-encoded signed over the payload", "issues", ghForm, ghSign(demoGHSecret, ghUnlabeled), 401), "application/x-www-form-urlencoded"),
		ctype(gh("form-encoded without payload", "issues", []byte("x=1"), ghSign(demoGHSecret, []byte("x=1")), 400), "application/x-www-form-urlencoded"),
		method(gh("", "issues", nil, "", 405), http.MethodGet),
		method(gh("", "issues", ghBody, ghSign(demoGHSecret, ghBody), 405), http.MethodPut),

		jr("missing signature", "", jiraBody, "", 401),
		jr("wrong secret", "", jiraBody, jiraSign("not-the-secret", jiraBody), 401),
		jr("signature of another body", "", jiraBody, jiraSign(demoJiraHook, jiraOther), 401),
		jr("many garbage entries", "", jiraBody, garbage+jiraSign(demoJiraHook, jiraBody), 401),
		jr("wrong query secret", "not-the-secret", jiraBody, "", 401),
		jr("query secret prefix", demoJiraHook[:len(demoJiraHook)-1], jiraBody, "", 401),
		jr("empty body", "", nil, jiraSign(demoJiraHook, nil), 400),
		jr("empty body, query secret", demoJiraHook, nil, "", 400),
		jr("body over 1 MiB", "", big, jiraSign(demoJiraHook, big), 413),
		jr("not JSON", "", notJSON, jiraSign(demoJiraHook, notJSON), 400),
		jr("not JSON, query secret", demoJiraHook, notJSON, "", 400),
		jr("JSON, not an issue event", "", notEnvelope, jiraSign(demoJiraHook, notEnvelope), 400),
		stored(jr("unknown event type", "", unknownJira, jiraSign(demoJiraHook, unknownJira), 202)),
		stored(with(jr("unknown event type, query secret", demoJiraHook, unknownJira, "", 202), func(r *row) {
			delete(r.header, "X-Atlassian-Webhook-Identifier") // as automation rules send it
		})),
		jr("deeply nested", "", deep, jiraSign(demoJiraHook, deep), 400),
		ctype(jr("wrong content type", "", jiraBody, jiraSign(demoJiraHook, jiraBody), 415), "text/html"),
		method(jr("", "", nil, "", 405), http.MethodGet),
		method(jr("", demoJiraHook, jiraBody, "", 405), http.MethodPut),

		// Valid, but for an incident PagerDuty does not know: accepted, and
		// the job fails for good with a reason a person can act on.
		with(pd("resolved for an unknown incident", ghostBody, pdtest.Sign(demoSecret, ghostBody), 202), func(r *row) {
			r.newJobs = 1
			r.after = func(t *testing.T, jobs []store.JobInfo) {
				id := jobs[0].ID
				var j store.JobInfo
				waitFor(t, "the unknown incident's job to fail permanently", 15*time.Second, func() bool {
					all, err := e.App.Store.Jobs(ctx, "cancelled", "discarded")
					if err != nil {
						t.Fatal(err)
					}
					for _, x := range all {
						if x.ID == id {
							j = x
							return true
						}
					}
					return false
				})
				if !strings.Contains(j.LastError, "404") || !strings.Contains(j.LastError, ghost.ID) {
					t.Errorf("reason %q does not say the incident %s was not found (404)", j.LastError, ghost.ID)
				}
				if len(j.LastError) > 2000 || strings.ContainsAny(j.LastError, "\x00") {
					t.Errorf("reason is not readable: %q", j.LastError)
				}
				t.Logf("job %d %s: %s", j.ID, j.State, j.LastError)
			}
		}),
	}

	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, e)
			req, err := http.NewRequestWithContext(ctx, tc.method, e.URL+tc.path, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			after := snapshot(t, e)
			src := strings.TrimPrefix(strings.SplitN(tc.path, "?", 2)[0], "/webhooks/")
			wantDeliveries := before.deliveries[src]
			if tc.stored || tc.newJobs > 0 {
				wantDeliveries++
			}
			for s, n := range after.deliveries {
				want := before.deliveries[s]
				if s == src {
					want = wantDeliveries
				}
				if n != want {
					t.Errorf("%s deliveries: %d stored, want %d", s, n, want)
				}
			}
			if after.deliveries[src] != wantDeliveries {
				t.Errorf("%s deliveries: %d stored, want %d", src, after.deliveries[src], wantDeliveries)
			}
			jobs := newJobs(before, after)
			if len(jobs) != tc.newJobs {
				t.Fatalf("%d new jobs %+v, want %d", len(jobs), jobs, tc.newJobs)
			}
			if tc.after != nil {
				tc.after(t, jobs)
			}
			if w := snapshot(t, e).writes; w != before.writes {
				t.Errorf("writes to PagerDuty, Jira, GitHub went from %v to %v", before.writes, w)
			}
		})
	}

	// Nothing acted on later either.
	settle(t, e)
	if n := len(e.Jira.Issues()); n != 0 {
		t.Errorf("%d Jira issues after bad input", n)
	}
	if w := [3]int{pdWrites(e), jiraWrites(e), ghWrites(e)}; w != [3]int{} {
		t.Errorf("writes to PagerDuty, Jira, GitHub: %v, want none", w)
	}

	// The bodies used above are live: signed correctly, each queues a job.
	// Without this the "no new job" checks could pass for the wrong reason.
	controls := []row{
		pd("control", pdBody, pdtest.Sign(demoSecret, pdBody), 202),
		gh("control", "issues", ghBody, ghSign(demoGHSecret, ghBody), 202),
		jr("control", "", jiraBody, jiraSign(demoJiraHook, jiraBody), 202),
		jr("control, query secret", demoJiraHook, jiraOther, "", 202),
	}
	for _, tc := range controls {
		before := snapshot(t, e)
		req, _ := http.NewRequestWithContext(ctx, tc.method, e.URL+tc.path, bytes.NewReader(tc.body))
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Fatalf("%s: status %d, want 202", tc.name, resp.StatusCode)
		}
		if n := len(newJobs(before, snapshot(t, e))); n != 1 {
			t.Errorf("%s: %d new jobs, want 1: the bad-input rows do not prove anything", tc.name, n)
		}
	}
}
