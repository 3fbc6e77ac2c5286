package github_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/github"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/sync/coe"
)

func sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestVerifySignature(t *testing.T) {
	secret := []byte("It's a Secret to Everybody")
	body := []byte("Hello, World!")
	// GitHub's documented example for this secret and payload.
	const documented = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := sign(secret, body); got != documented {
		t.Fatalf("test helper: %s", got)
	}
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		want   error
	}{
		{"valid", secret, documented, body, nil},
		{"valid upper-case hex", secret, "sha256=" + strings.ToUpper(documented[7:]), body, nil},
		{"valid with spaces", secret, "  " + documented + " ", body, nil},
		{"wrong secret", []byte("other"), documented, body, github.ErrBadSignature},
		{"tampered body", secret, documented, []byte("Hello, World?"), github.ErrBadSignature},
		{"sha1 header", secret, "sha1=" + strings.Repeat("0", 40), body, github.ErrBadSignature},
		{"no prefix", secret, documented[7:], body, github.ErrBadSignature},
		{"bad hex", secret, "sha256=" + strings.Repeat("z", 64), body, github.ErrBadSignature},
		{"truncated", secret, documented[:40], body, github.ErrBadSignature},
		{"missing header", secret, "", body, github.ErrNoSignature},
		{"blank header", secret, "   ", body, github.ErrNoSignature},
		{"empty secret with valid-looking header", nil, documented, body, github.ErrNoSecret},
		{"empty secret with the empty-key MAC", []byte{}, sign(nil, body), body, github.ErrNoSecret},
		{"empty secret without header", nil, "", body, github.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := github.VerifySignature(tt.secret, tt.header, tt.body)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeIssuesEventSamples(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		file  string
		check func(t *testing.T, ev coe.GitHubIssueEvent)
	}{
		{"octokit-issues.opened.payload.json", func(t *testing.T, ev coe.GitHubIssueEvent) {
			is := ev.Issue
			if ev.Action != "opened" || is.State != "open" || is.StateReason != "" || !is.ClosedAt.IsZero() ||
				is.Body != "It looks like you accidently spelled 'commit' with two 't's." ||
				!slices.Equal(is.Assignees, []string{"Codertocat"}) || !slices.Equal(is.Labels, []string{"bug"}) ||
				!is.CreatedAt.Equal(ts("2019-05-15T15:20:18Z")) {
				t.Fatalf("%+v", ev)
			}
		}},
		{"octokit-issues.edited.payload.json", func(t *testing.T, ev coe.GitHubIssueEvent) {
			if ev.Action != "edited" || ev.TitleFrom != "" || ev.Issue.Title != "Spelling error in the README file" {
				t.Fatalf("%+v", ev)
			}
		}},
		{"octokit-issues.reopened.payload.json", func(t *testing.T, ev coe.GitHubIssueEvent) {
			if ev.Action != "reopened" || ev.Issue.State != "open" || ev.Issue.Body != "" ||
				!ev.Issue.UpdatedAt.Equal(ts("2021-10-11T16:40:56Z")) {
				t.Fatalf("%+v", ev)
			}
		}},
		{"octokit-issues.deleted.payload.json", func(t *testing.T, ev coe.GitHubIssueEvent) {
			if ev.Action != "deleted" || ev.Issue.State != "closed" || !ev.Issue.ClosedAt.Equal(ts("2021-07-05T18:07:10Z")) {
				t.Fatalf("%+v", ev)
			}
		}},
		{"octokit-issues.transferred.payload.json", func(t *testing.T, ev coe.GitHubIssueEvent) {
			if ev.Action != "transferred" || ev.Repo != "octo-org/octo-repo" || ev.Issue.Repo != "octo-org/octo-repo" ||
				ev.Issue.Number != 1 || ev.Issue.ID != 512748900 ||
				ev.NewRepo != "Codertocat/Hello-World" || ev.NewNumber != 1 {
				t.Fatalf("%+v", ev)
			}
		}},
		{"handmade-issues.closed.payload.json", func(t *testing.T, ev coe.GitHubIssueEvent) {
			is := ev.Issue
			if ev.Action != "closed" || is.State != "closed" || is.StateReason != "not_planned" ||
				!is.ClosedAt.Equal(ts("2021-10-12T09:30:00Z")) {
				t.Fatalf("%+v", ev)
			}
		}},
	}
	files, err := filepath.Glob("testdata/*.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Fatalf("%d sample files, %d cases: every sample needs a case", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := github.DecodeIssuesEvent("issues", "d-1", readSample(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Delivery != "d-1" || ev.Sender != "Codertocat" || ev.Issue.Number != 1 || ev.Issue.ID == 0 ||
				ev.Issue.URL == "" || ev.Issue.Title == "" || ev.Repo == "" || ev.Issue.Repo != ev.Repo {
				t.Fatalf("common fields: %+v", ev)
			}
			tt.check(t, ev)
		})
	}
}

func TestDecodeIssuesEventRejects(t *testing.T) {
	opened := string(readSample(t, "octokit-issues.opened.payload.json"))
	transferred := string(readSample(t, "octokit-issues.transferred.payload.json"))
	tests := []struct {
		name, event, body string
		want              error
	}{
		{"ping", "ping", `{"zen":"Keep it logically awesome.","hook_id":1}`, github.ErrPing},
		{"ping not json", "ping", `{`, github.ErrMalformed},
		{"push", "push", `{}`, github.ErrIgnoredEvent},
		{"issue_comment", "issue_comment", opened, github.ErrIgnoredEvent},
		{"labeled action", "issues", strings.Replace(opened, `"action": "opened"`, `"action": "labeled"`, 1), github.ErrIgnoredEvent},
		{"no event type", "", opened, github.ErrMalformed},
		{"not json", "issues", `{"action":`, github.ErrMalformed},
		{"array", "issues", `[]`, github.ErrMalformed},
		{"no action", "issues", `{"issue":{"number":1},"repository":{"full_name":"a/b"}}`, github.ErrMalformed},
		{"no issue", "issues", `{"action":"opened","repository":{"full_name":"a/b"}}`, github.ErrMalformed},
		{"no repository", "issues", `{"action":"opened","issue":{"number":1}}`, github.ErrMalformed},
		{"bad repository", "issues", `{"action":"opened","issue":{"number":1},"repository":{"full_name":"a"}}`, github.ErrMalformed},
		{"number as string", "issues", `{"action":"opened","issue":{"number":"1"},"repository":{"full_name":"a/b"}}`, github.ErrMalformed},
		{"bad time", "issues", `{"action":"opened","issue":{"number":1,"created_at":"yesterday"},"repository":{"full_name":"a/b"}}`, github.ErrMalformed},
		{"transferred without changes", "issues", strings.Replace(transferred, `"changes"`, `"changez"`, 1), github.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := github.DecodeIssuesEvent(tt.event, "d", []byte(tt.body))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// receiver is a webhook endpoint that verifies and decodes like coesync's.
type receiver struct {
	secret []byte
	mu     sync.Mutex
	events []coe.GitHubIssueEvent
	pings  int
	ids    map[string]bool
	errs   []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := github.VerifySignature(rc.secret, r.Header.Get(github.SignatureHeader), body); err != nil {
		rc.errs = append(rc.errs, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := r.Header.Get(github.DeliveryHeader)
	if id == "" || rc.ids[id] {
		rc.errs = append(rc.errs, errors.New("missing or repeated delivery id "+id))
	}
	rc.ids[id] = true
	ev, err := github.DecodeIssuesEvent(r.Header.Get(github.EventHeader), id, body)
	switch {
	case errors.Is(err, github.ErrPing):
		rc.pings++
	case errors.Is(err, github.ErrIgnoredEvent):
	case err != nil:
		rc.errs = append(rc.errs, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	default:
		rc.events = append(rc.events, ev)
	}
	w.WriteHeader(http.StatusNoContent)
}

func TestFakeWebhooksVerifyAndDecode(t *testing.T) {
	rc := &receiver{secret: []byte("hook-secret"), ids: map[string]bool{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	srv, c := newPair(t, ghtest.Options{})
	srv.SendWebhooks(hook.URL, "hook-secret")
	srv.Ping()
	ctx := context.Background()

	is, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: "first", Labels: []string{"coe"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateIssue(ctx, repo, is.Number, coe.GitHubIssuePatch{Title: ptr("second"), State: ptr("closed"), StateReason: ptr("not_planned")}); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.Reopen(repo, is.Number))
	must(srv.Assign(repo, is.Number, "alice"))
	must(srv.Assign(repo, is.Number))
	must(srv.EditTitle(repo, is.Number, "third"))
	must(srv.CloseIssue(repo, is.Number, ""))
	srv.DropWebhooks(true)
	must(srv.EditTitle(repo, is.Number, "lost"))
	srv.DropWebhooks(false)
	newN, err := srv.Transfer(repo, is.Number, "acme/elsewhere")
	must(err)
	n2, err := srv.OpenIssue("acme/elsewhere", "to delete", "")
	must(err)
	must(srv.Delete("acme/elsewhere", n2))
	srv.Flush()

	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.errs) > 0 {
		t.Fatalf("receiver errors: %v", rc.errs)
	}
	if rc.pings != 1 {
		t.Fatalf("%d pings", rc.pings)
	}
	var got []string
	for _, ev := range rc.events {
		got = append(got, ev.Action)
	}
	want := []string{"opened", "edited", "closed", "reopened", "assigned", "unassigned", "edited", "closed", "transferred", "opened", "deleted"}
	if !slices.Equal(got, want) {
		t.Fatalf("actions = %v\nwant      %v", got, want)
	}
	ev := rc.events
	if ev[0].Sender != ghtest.DefaultLogin || ev[3].Sender != ghtest.DefaultHuman {
		t.Fatalf("senders %q, %q", ev[0].Sender, ev[3].Sender)
	}
	if ev[1].TitleFrom != "first" || ev[1].Issue.Title != "second" {
		t.Fatalf("edited = %+v", ev[1])
	}
	if ev[2].Issue.State != "closed" || ev[2].Issue.StateReason != "not_planned" || ev[2].Issue.ClosedAt.IsZero() {
		t.Fatalf("closed = %+v", ev[2].Issue)
	}
	if ev[3].Issue.State != "open" || ev[3].Issue.StateReason != "reopened" {
		t.Fatalf("reopened = %+v", ev[3].Issue)
	}
	if !slices.Equal(ev[4].Issue.Assignees, []string{"alice"}) || len(ev[5].Issue.Assignees) != 0 {
		t.Fatalf("assignments = %+v / %+v", ev[4].Issue, ev[5].Issue)
	}
	if ev[6].TitleFrom != "second" || ev[7].Issue.StateReason != "completed" {
		t.Fatalf("edited/closed = %+v / %+v", ev[6], ev[7])
	}
	tr := ev[8]
	if tr.Repo != repo || tr.Issue.Number != is.Number || tr.NewRepo != "acme/elsewhere" || tr.NewNumber != newN || tr.Issue.Title != "lost" {
		t.Fatalf("transferred = %+v", tr)
	}
	if ev[10].Repo != "acme/elsewhere" || ev[10].Issue.Number != n2 {
		t.Fatalf("deleted = %+v", ev[10])
	}

	var dropped int
	for _, d := range srv.Deliveries() {
		if d.Dropped {
			dropped++
		} else if d.Status != http.StatusNoContent {
			t.Fatalf("delivery %+v", d)
		}
	}
	if dropped != 1 {
		t.Fatalf("%d dropped deliveries", dropped)
	}
}

func TestFakeWebhooksWithWrongSecretAreRejected(t *testing.T) {
	rc := &receiver{secret: []byte("right"), ids: map[string]bool{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	srv, c := newPair(t, ghtest.Options{})
	for _, secret := range []string{"wrong", ""} {
		srv.SendWebhooks(hook.URL, secret)
		if _, err := c.CreateIssue(context.Background(), repo, coe.GitHubIssueSpec{Title: "x"}); err != nil {
			t.Fatal(err)
		}
		srv.Flush()
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.events) != 0 || len(rc.errs) != 2 ||
		!errors.Is(rc.errs[0], github.ErrBadSignature) || !errors.Is(rc.errs[1], github.ErrNoSignature) {
		t.Fatalf("events %v, errs %v", rc.events, rc.errs)
	}
	for _, d := range srv.Deliveries() {
		if d.Status != http.StatusUnauthorized {
			t.Fatalf("delivery %+v", d)
		}
	}
}
