package jira_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

func TestCreateSubtasks(t *testing.T) {
	ctx := context.Background()
	sub := func(summary string) coe.TicketSpec {
		return coe.TicketSpec{Summary: summary, Labels: []string{"coe-action-item"}}
	}
	many := make([]coe.TicketSpec, 51)
	for i := range many {
		many[i] = sub("item " + strconv.Itoa(i))
	}
	tests := []struct {
		name      string
		specs     []coe.TicketSpec
		fail      int // FailNext with 503 before the call
		wantKeys  []string
		wantCalls int
		// failed are the indexes refused, with the kind of the error.
		failed  []int
		errKind engine.ErrorKind
	}{
		{name: "one call for all", specs: []coe.TicketSpec{sub("a"), sub("b"), sub("c")},
			wantKeys: []string{"OPS-2", "OPS-3", "OPS-4"}, wantCalls: 1},
		{name: "50 a call", specs: many, wantCalls: 2},
		{name: "partial failure: the others are created", specs: []coe.TicketSpec{sub("a"), {Summary: "b", Priority: "P1"}, sub("c")},
			wantKeys: []string{"OPS-2", "", "OPS-3"}, wantCalls: 1, failed: []int{1}, errKind: engine.Permanent},
		{name: "all refused: 400, nothing created", specs: []coe.TicketSpec{{Summary: "a", Priority: "P1"}, {Summary: "b", Priority: "P2"}},
			wantKeys: []string{"", ""}, wantCalls: 1, failed: []int{0, 1}, errKind: engine.Permanent},
		{name: "server error: retryable, nothing known", specs: []coe.TicketSpec{sub("a")}, fail: 1,
			wantKeys: []string{""}, wantCalls: 1, errKind: engine.Retryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := setup(t, jiratest.Options{})
			rc := &receiver{secret: []byte("s3cret")}
			hooks := httptest.NewServer(rc)
			t.Cleanup(hooks.Close)
			parent := mustCreate(t, c, spec("COE"))
			srv.SendWebhooks(hooks.URL, "s3cret")
			srv.ResetRequests()
			if tt.fail > 0 {
				srv.FailNext(tt.fail, http.StatusServiceUnavailable, 0)
			}
			refs, err := c.CreateSubtasks(ctx, parent.Key, tt.specs)
			srv.Flush()
			if tt.errKind == 0 && err != nil {
				t.Fatal(err)
			}
			if tt.errKind != 0 {
				if k, _ := engine.Classify(err); err == nil || k != tt.errKind {
					t.Fatalf("err %v, want kind %v", err, tt.errKind)
				}
			}
			var pe *engine.PartialCreateError
			if len(tt.failed) > 0 {
				if !errors.As(err, &pe) || len(pe.Failed) != len(tt.failed) {
					t.Fatalf("err %v, want elements %v refused", err, tt.failed)
				}
				for i, f := range pe.Failed {
					if f.Index != tt.failed[i] || engine.StatusOf(f.Err) != http.StatusBadRequest {
						t.Fatalf("failure %+v, want element %d with a 400", f, tt.failed[i])
					}
				}
			} else if errors.As(err, &pe) {
				t.Fatalf("err %v is a partial failure", err)
			}
			if len(refs) != len(tt.specs) {
				t.Fatalf("%d refs for %d specs", len(refs), len(tt.specs))
			}
			created := 0
			for i, r := range refs {
				if tt.wantKeys != nil && r.Key != tt.wantKeys[i] {
					t.Fatalf("refs %v, want %v", keys(refs), tt.wantKeys)
				}
				if r.Key == "" {
					continue
				}
				created++
				is, ok := srv.Issue(r.Key)
				if !ok || is.Parent != parent.Key || is.IssueType != jira.DefaultSubtaskType || is.Summary != tt.specs[i].Summary ||
					r.URL != c.BrowseURL(r.Key) || r.ID == "" {
					t.Fatalf("ref %+v issue %+v", r, is)
				}
			}
			reqs := srv.Requests()
			if len(reqs) != tt.wantCalls {
				t.Fatalf("%d requests, want %d", len(reqs), tt.wantCalls)
			}
			for _, r := range reqs {
				var body struct {
					IssueUpdates []struct {
						Fields map[string]json.RawMessage `json:"fields"`
					} `json:"issueUpdates"`
				}
				if r.Method != http.MethodPost || r.Path != "/rest/api/2/issue/bulk" || json.Unmarshal([]byte(r.Body), &body) != nil ||
					len(body.IssueUpdates) == 0 || len(body.IssueUpdates) > 50 || body.IssueUpdates[0].Fields["parent"] == nil {
					t.Fatalf("request %s %s %.200s", r.Method, r.Path, r.Body)
				}
			}
			// One jira:issue_created per created sub-task, as single creates send.
			evs, errs := rc.got()
			if len(errs) > 0 || len(evs) != created {
				t.Fatalf("%d webhooks (%v), want %d", len(evs), errs, created)
			}
			for _, ev := range evs {
				if ev.Kind != coe.JiraEventCreated || ev.Parent != parent.Key || ev.Item == nil {
					t.Fatalf("webhook %+v", ev)
				}
			}
		})
	}
}

func TestCreateSubtasksBadParent(t *testing.T) {
	_, c := setup(t, jiratest.Options{})
	_, err := c.CreateSubtasks(context.Background(), "OPS 1", []coe.TicketSpec{{Summary: "x"}})
	if k, _ := engine.Classify(err); k != engine.Permanent {
		t.Fatalf("err %v", err)
	}
}
