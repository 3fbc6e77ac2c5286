package jira_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)} }

func setup(t testing.TB, so jiratest.Options) (*jiratest.Server, *jira.Client) {
	t.Helper()
	srv := jiratest.New(so)
	t.Cleanup(srv.Close)
	c, err := jira.New(jira.Options{BaseURL: srv.URL, User: jiratest.DefaultUser, Token: jiratest.DefaultToken, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func spec(summary string, labels ...string) coe.TicketSpec {
	return coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: summary, Labels: labels}
}

func mustCreate(t testing.TB, c *jira.Client, s coe.TicketSpec) coe.TicketRef {
	t.Helper()
	ref, err := c.CreateTicket(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func keys(refs []coe.TicketRef) []string {
	out := []string{}
	for _, r := range refs {
		out = append(out, r.Key)
	}
	return out
}

func TestCreateTicket(t *testing.T) {
	srv, c := setup(t, jiratest.Options{})
	ctx := context.Background()
	tests := []struct {
		name string
		spec coe.TicketSpec
		want jiratest.Issue
	}{
		{
			name: "full spec",
			spec: coe.TicketSpec{
				Project: "OPS", IssueType: "Bug", Summary: "COE: checkout 500s",
				Description: "h2. Summary\n*bold* {code}x{code}",
				Labels:      []string{"coe", "pd-PABC123"}, Components: []string{"payments"}, Priority: "High",
			},
			want: jiratest.Issue{Project: "OPS", IssueType: "Bug", Summary: "COE: checkout 500s",
				Description: "h2. Summary\n*bold* {code}x{code}", Labels: []string{"coe", "pd-PABC123"},
				Components: []string{"payments"}, Priority: "High", Status: "To Do"},
		},
		{
			name: "no priority keeps Jira's default",
			spec: spec("COE: minimal"),
			want: jiratest.Issue{Project: "OPS", IssueType: "Task", Summary: "COE: minimal", Priority: "Medium", Status: "To Do"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := c.CreateTicket(ctx, tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if ref.ID == "" || ref.URL != srv.URL+"/browse/"+ref.Key {
				t.Fatalf("ref %+v", ref)
			}
			got, ok := srv.Issue(ref.Key)
			if !ok || got.ID != ref.ID {
				t.Fatalf("issue %s not stored (%+v)", ref.Key, got)
			}
			tt.want.ID, tt.want.Key, tt.want.Reporter = got.ID, got.Key, got.Reporter
			tt.want.Created, tt.want.Updated = got.Created, got.Updated
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("stored\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestFindByLabelWaitsForSearchLag(t *testing.T) {
	clk := newClock()
	_, c := setup(t, jiratest.Options{Now: clk.Now, SearchLag: 10 * time.Second})
	ctx := context.Background()
	ref := mustCreate(t, c, spec("COE", "pd-P1"))
	for _, tt := range []struct {
		advance time.Duration
		found   bool
	}{
		{0, false},
		{9 * time.Second, false},
		{time.Second, true},
		{time.Hour, true},
	} {
		clk.Add(tt.advance)
		refs, err := c.FindByLabel(ctx, "pd-P1")
		if err != nil {
			t.Fatal(err)
		}
		if tt.found != (len(refs) == 1) {
			t.Fatalf("after +%v: %v", tt.advance, refs)
		}
		if tt.found && refs[0] != ref {
			t.Fatalf("found %+v, created %+v", refs[0], ref)
		}
	}
}

func TestFindByLabelPaginates(t *testing.T) {
	srv, c := setup(t, jiratest.Options{MaxResults: 2})
	var want []string
	for i := range 5 {
		want = append(want, mustCreate(t, c, spec(fmt.Sprint("COE ", i), "coe-x")).Key)
	}
	mustCreate(t, c, spec("other", "coe-y"))
	srv.ResetRequests()

	refs, err := c.FindByLabel(context.Background(), "coe-x")
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(refs); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 pages", len(reqs))
	}
	for i, r := range reqs {
		if r.Method != "GET" || r.Path != "/rest/api/2/search/jql" {
			t.Fatalf("request %d: %s %s", i, r.Method, r.Path)
		}
		if hasToken := r.Query.Get("nextPageToken") != ""; hasToken != (i > 0) {
			t.Fatalf("request %d nextPageToken %q", i, r.Query.Get("nextPageToken"))
		}
		if f := r.Query.Get("fields"); f != "key,summary" {
			t.Fatalf("fields %q", f)
		}
	}

	refs, err = c.FindByLabel(context.Background(), "absent")
	if err != nil || len(refs) != 0 {
		t.Fatalf("absent label: %v %v", refs, err)
	}
}

func TestFindByLabelEscapesJQL(t *testing.T) {
	srv, c := setup(t, jiratest.Options{})
	ctx := context.Background()
	odd := `pd-"P1"\x`
	inject := `y" OR labels = "coe`
	a := mustCreate(t, c, spec("a", "coe"))
	b := mustCreate(t, c, spec("b"))
	d := mustCreate(t, c, spec("d"))
	// Jira refuses labels with spaces on create; set them out-of-band.
	srv.Edit(b.Key, func(i *jiratest.Issue) { i.Labels = []string{odd} })
	srv.Edit(d.Key, func(i *jiratest.Issue) { i.Labels = []string{inject} })
	for _, tt := range []struct {
		label string
		want  []string
	}{
		{odd, []string{b.Key}},
		{inject, []string{d.Key}},
		{"coe", []string{a.Key}},
		{"tab\there", []string{}},
	} {
		refs, err := c.FindByLabel(ctx, tt.label)
		if err != nil {
			t.Fatalf("%q: %v", tt.label, err)
		}
		if got := keys(refs); !reflect.DeepEqual(got, tt.want) {
			t.Fatalf("%q: %v, want %v", tt.label, got, tt.want)
		}
	}
	if _, err := c.FindByLabel(ctx, ""); err == nil {
		t.Fatal("empty label accepted")
	}
}

func TestQuoteJQL(t *testing.T) {
	for in, want := range map[string]string{
		`coe`:        `"coe"`,
		`a"b`:        `"a\"b"`,
		`a\b`:        `"a\\b"`,
		"a\nb\tc\rd": `"a\nb\tc\rd"`,
		"bell\a":     `"bell\u0007"`,
		`ünï`:        `"ünï"`,
	} {
		if got := jira.QuoteJQL(in); got != want {
			t.Errorf("QuoteJQL(%q) = %s, want %s", in, got, want)
		}
	}
}

// The client never calls the removed /rest/api/2/search, which answers 410.
func TestNeverCallsRemovedSearch(t *testing.T) {
	srv, c := setup(t, jiratest.Options{})
	ctx := context.Background()
	ref := mustCreate(t, c, spec("COE", "coe"))
	if _, err := c.FindByLabel(ctx, "coe"); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureRemoteLink(ctx, ref.Key, coe.RemoteLink{GlobalID: "g", URL: "https://x", Title: "x"}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.CreateSubtask(ctx, ref.Key, coe.TicketSpec{Summary: "fix"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Transition(ctx, sub.Key, []string{"In Progress"}); err != nil {
		t.Fatal(err)
	}
	id, err := c.AddComment(ctx, sub.Key, "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateComment(ctx, sub.Key, id, "y"); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Path == "/rest/api/2/search" {
			t.Fatalf("client called %s %s", r.Method, r.Path)
		}
	}
	if n := srv.Count("GET", "/rest/api/2/search/jql"); n != 1 {
		t.Fatalf("search/jql calls = %d", n)
	}

	// And the fake answers that endpoint the way Jira Cloud does now.
	req, _ := http.NewRequest("GET", srv.URL+"/rest/api/2/search?jql=labels%3Dcoe", nil)
	req.SetBasicAuth(jiratest.DefaultUser, jiratest.DefaultToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusGone || !bytes.Contains(body, []byte("Please migrate to the /rest/api/3/search/jql API")) {
		t.Fatalf("/search: %d %s", res.StatusCode, body)
	}
}

func TestEnsureRemoteLinkUpserts(t *testing.T) {
	srv, c := setup(t, jiratest.Options{})
	ctx := context.Background()
	ref := mustCreate(t, c, spec("COE"))
	link := coe.RemoteLink{GlobalID: "pagerduty:incident:P1", URL: "https://acme.pagerduty.com/incidents/P1", Title: "PagerDuty P1", Summary: "triggered"}
	if err := c.EnsureRemoteLink(ctx, ref.Key, link); err != nil {
		t.Fatal(err)
	}
	link.Summary = "resolved"
	if err := c.EnsureRemoteLink(ctx, ref.Key, link); err != nil {
		t.Fatal(err)
	}
	is, _ := srv.Issue(ref.Key)
	if len(is.RemoteLinks) != 1 {
		t.Fatalf("%d links after two ensures with one globalId", len(is.RemoteLinks))
	}
	if l := is.RemoteLinks[0]; l.GlobalID != link.GlobalID || l.URL != link.URL || l.Title != link.Title || l.Summary != "resolved" {
		t.Fatalf("link %+v", l)
	}
	if err := c.EnsureRemoteLink(ctx, ref.Key, coe.RemoteLink{GlobalID: "other", URL: "https://x", Title: "x"}); err != nil {
		t.Fatal(err)
	}
	if is, _ = srv.Issue(ref.Key); len(is.RemoteLinks) != 2 {
		t.Fatalf("%d links, want 2", len(is.RemoteLinks))
	}

	before := len(srv.Requests())
	for _, tt := range []struct {
		key  string
		link coe.RemoteLink
	}{
		{ref.Key, coe.RemoteLink{URL: "https://x", Title: "no global id"}},
		{"OPS-1/../../x", link},
		{"", link},
	} {
		err := c.EnsureRemoteLink(ctx, tt.key, tt.link)
		if k, _ := engine.Classify(err); err == nil || k != engine.Permanent {
			t.Fatalf("%q %+v: %v", tt.key, tt.link, err)
		}
	}
	if len(srv.Requests()) != before {
		t.Fatal("invalid input reached Jira")
	}
}

// headerRecorder records the Authorization header of every request.
type headerRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen = append(h.seen, r.Header.Get("Authorization"))
	h.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestAuthHeaders(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("me@example.com:api-tok"))
	tests := []struct {
		name       string
		server     jiratest.Options
		user, tok  string
		wantHeader string
		wantErr    bool
	}{
		{"cloud basic", jiratest.Options{User: "me@example.com", Token: "api-tok"}, "me@example.com", "api-tok", basic, false},
		{"data center bearer", jiratest.Options{BearerToken: "pat-123"}, "", "pat-123", "Bearer pat-123", false},
		{"wrong token", jiratest.Options{User: "me@example.com", Token: "api-tok"}, "me@example.com", "nope", "Basic " + base64.StdEncoding.EncodeToString([]byte("me@example.com:nope")), true},
		{"bearer where basic expected", jiratest.Options{User: "me@example.com", Token: "api-tok"}, "", "api-tok", "Bearer api-tok", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := jiratest.New(tt.server)
			defer srv.Close()
			rec := &headerRecorder{}
			c, err := jira.New(jira.Options{BaseURL: srv.URL, User: tt.user, Token: tt.tok, Transport: rec})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.FindByLabel(context.Background(), "coe")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if len(rec.seen) != 1 || rec.seen[0] != tt.wantHeader {
				t.Fatalf("Authorization %q, want %q", rec.seen, tt.wantHeader)
			}
			if tt.wantErr {
				var e *engine.Error
				if !errors.As(err, &e) || e.Status != 401 || e.Kind != engine.Permanent {
					t.Fatalf("401 classified as %#v", e)
				}
			}
			want := "basic"
			if tt.user == "" {
				want = "bearer"
			}
			if got := srv.Requests()[0].Auth; got != want {
				t.Fatalf("server saw %q auth", got)
			}
		})
	}
}

// A redirect to another host must not carry the credentials there.
func TestRedirectKeepsCredentialsHome(t *testing.T) {
	var got []string
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"issues":[],"isLast":true}`)
	}))
	defer other.Close()
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			t.Error("no credentials at home")
		}
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer home.Close()
	for _, user := range []string{"me@example.com", ""} {
		c, err := jira.New(jira.Options{BaseURL: home.URL, User: user, Token: "s3cret-token"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.FindByLabel(context.Background(), "coe"); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != "" || got[1] != "" {
		t.Fatalf("other host saw Authorization %q", got)
	}
}

func TestErrorClassification(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		arrange    func(*jiratest.Server)
		spec       coe.TicketSpec
		kind       engine.ErrorKind
		status     int
		retryAfter time.Duration
		msg        string
	}{
		{"429 with Retry-After", func(s *jiratest.Server) { s.FailNext(1, 429, 3*time.Second) }, spec("x"), engine.RateLimited, 429, 3 * time.Second, "Rate limit exceeded."},
		{"token bucket", func(s *jiratest.Server) { s.RateLimit(0.5); s.FailNext(0, 0, 0) }, spec("x"), engine.RateLimited, 429, 2 * time.Second, ""},
		{"500", func(s *jiratest.Server) { s.FailNext(1, 500, 0) }, spec("x"), engine.Retryable, 500, 0, "Internal Server Error"},
		{"503 with Retry-After", func(s *jiratest.Server) { s.FailNext(1, 503, 7*time.Second) }, spec("x"), engine.Retryable, 503, 7 * time.Second, ""},
		{"bad project", nil, coe.TicketSpec{Project: "NOPE", IssueType: "Task", Summary: "x"}, engine.Permanent, 400, 0, "project: valid project is required"},
		{"bad issue type", nil, coe.TicketSpec{Project: "OPS", IssueType: "Story", Summary: "x"}, engine.Permanent, 400, 0, "issuetype: The issue type selected is invalid."},
		{"label with space", nil, coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: "x", Labels: []string{"a b"}}, engine.Permanent, 400, 0, "labels: The label 'a b' contains spaces which is invalid."},
		{"bad priority", nil, coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: "x", Priority: "P1"}, engine.Permanent, 400, 0, "priority: The priority selected is invalid."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv, c := setup(t, jiratest.Options{Now: clk.Now})
			if tt.arrange != nil {
				tt.arrange(srv)
			}
			if tt.name == "token bucket" {
				mustCreate(t, c, spec("uses the only token"))
			}
			_, err := c.CreateTicket(ctx, tt.spec)
			if err == nil {
				t.Fatal("no error")
			}
			if want := "jira: create COE in " + tt.spec.Project + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error %q does not start with %q", err, want)
			}
			var e *engine.Error
			if !errors.As(err, &e) {
				t.Fatalf("no *engine.Error in %v", err)
			}
			if e.Kind != tt.kind || e.Status != tt.status || e.RetryAfter != tt.retryAfter || e.Service != "jira" {
				t.Fatalf("got %v status %d retry %v, want %v %d %v", e.Kind, e.Status, e.RetryAfter, tt.kind, tt.status, tt.retryAfter)
			}
			if kind, wait := engine.Classify(err); kind != tt.kind || wait != tt.retryAfter {
				t.Fatalf("Classify = %v %v", kind, wait)
			}
			if !strings.Contains(e.Msg, tt.msg) || !strings.HasPrefix(e.Msg, "POST /rest/api/2/issue") {
				t.Fatalf("Msg %q, want it to contain %q", e.Msg, tt.msg)
			}
		})
	}
}

// Every operation keeps the transport's *engine.Error reachable through
// go-jira's wrapping, for network errors too.
func TestEveryOperationKeepsEngineError(t *testing.T) {
	ctx := context.Background()
	ops := []struct {
		name string
		op   func(*jira.Client) error
		// status of the call against an empty Jira; 0 when it succeeds.
		status int
	}{
		{"FindByLabel", func(c *jira.Client) error { _, err := c.FindByLabel(ctx, "coe"); return err }, 0},
		{"CreateTicket", func(c *jira.Client) error {
			_, err := c.CreateTicket(ctx, coe.TicketSpec{Project: "NOPE", IssueType: "Task", Summary: "x"})
			return err
		}, 400},
		{"CreateSubtask", func(c *jira.Client) error {
			_, err := c.CreateSubtask(ctx, "OPS-1", coe.TicketSpec{Summary: "x"})
			return err
		}, 400},
		{"EnsureRemoteLink", func(c *jira.Client) error {
			return c.EnsureRemoteLink(ctx, "OPS-1", coe.RemoteLink{GlobalID: "g", URL: "https://x", Title: "x"})
		}, 404},
		{"Transition", func(c *jira.Client) error { _, err := c.Transition(ctx, "OPS-1", []string{"Done"}); return err }, 404},
		{"AddComment", func(c *jira.Client) error { _, err := c.AddComment(ctx, "OPS-1", "x"); return err }, 404},
		{"UpdateComment", func(c *jira.Client) error { return c.UpdateComment(ctx, "OPS-1", "10001", "x") }, 404},
	}
	for _, tt := range ops {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := setup(t, jiratest.Options{})
			srv.FailNext(1, 502, 0)
			var e *engine.Error
			if err := tt.op(c); !errors.As(err, &e) || e.Kind != engine.Retryable || e.Status != 502 {
				t.Fatalf("502: %v", err)
			}
			err := tt.op(c)
			if tt.status == 0 && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.status != 0 && (!errors.As(err, &e) || e.Kind != engine.Permanent || e.Status != tt.status) {
				t.Fatalf("want permanent %d: %v", tt.status, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "jira: ") {
				t.Fatalf("error not prefixed: %v", err)
			}
			srv.Close()
			err = tt.op(c)
			if !errors.As(err, &e) || e.Kind != engine.Retryable || e.Status != 0 {
				t.Fatalf("network error: %v", err)
			}
		})
	}
}

func TestContextCancellation(t *testing.T) {
	srv, c := setup(t, jiratest.Options{})
	srv.Latency(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.CreateTicket(ctx, spec("x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

// Neither the token nor user:token (nor its base64) may show in an error,
// even when the server echoes the credentials back.
func TestSecretsNeverInErrors(t *testing.T) {
	const user, token = "bot@example.com", "ATATT3xFfGF0-s3cr3t-t0k3n"
	pair := user + ":" + token
	b64 := base64.StdEncoding.EncodeToString([]byte(pair))
	echo := func(status int, ctype string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			a := r.Header.Get("Authorization")
			fmt.Fprintf(w, `{"errorMessages":["bad credentials %s (%s)"],"errors":{"auth":%q}}`, a, token, pair)
		}
	}
	servers := map[string]http.Handler{
		"echo 400 json":  echo(400, "application/json"),
		"echo 401 json":  echo(401, "application/json"),
		"echo 500 text":  echo(500, "text/plain"),
		"echo 429":       echo(429, "application/json"),
		"echo 200 junk":  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Header.Get("Authorization")) }),
		"fake jira 401":  jiratest.NewHandler(jiratest.Options{User: "someone", Token: "else"}),
		"fake jira 404s": jiratest.NewHandler(jiratest.Options{User: user, Token: token, BearerToken: token}),
	}
	ctx := context.Background()
	for name, h := range servers {
		for _, u := range []string{user, ""} {
			srv := httptest.NewServer(h)
			c, err := jira.New(jira.Options{BaseURL: srv.URL, User: u, Token: token})
			if err != nil {
				t.Fatal(err)
			}
			errs := []error{}
			_, err = c.FindByLabel(ctx, "coe")
			errs = append(errs, err)
			_, err = c.CreateTicket(ctx, spec("x"))
			errs = append(errs, err)
			errs = append(errs, c.EnsureRemoteLink(ctx, "OPS-1", coe.RemoteLink{GlobalID: "g", URL: "https://x", Title: "x"}))
			_, err = c.Transition(ctx, "OPS-1", []string{"Done"})
			errs = append(errs, err)
			_, err = c.AddComment(ctx, "OPS-1", "x")
			errs = append(errs, err)
			srv.Close()
			_, err = c.CreateSubtask(ctx, "OPS-1", coe.TicketSpec{Summary: "x"}) // network error
			errs = append(errs, err)
			failed := 0
			for i, err := range errs {
				if err == nil {
					continue // e.g. a search or create the fake accepts
				}
				failed++
				texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
				var e *engine.Error
				if errors.As(err, &e) {
					texts = append(texts, e.Msg, e.Error())
				}
				for _, s := range texts {
					for _, secret := range []string{token, pair, b64} {
						if strings.Contains(s, secret) {
							t.Fatalf("%s/%q op %d leaks a credential: %s", name, u, i, s)
						}
					}
				}
			}
			if failed < 2 {
				t.Fatalf("%s/%q: only %d operations failed", name, u, failed)
			}
		}
	}
}

func TestOptionsDoNotPrintToken(t *testing.T) {
	const token = "ATATT-very-secret"
	o := jira.Options{BaseURL: "https://x.atlassian.net", User: "me@example.com", Token: token}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "jira", o)
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), fmt.Sprintf("%s", o), buf.String()} {
		if strings.Contains(s, token) {
			t.Fatalf("token printed: %s", s)
		}
		if !strings.Contains(s, "x.atlassian.net") {
			t.Fatalf("useful fields dropped: %s", s)
		}
	}
}

func TestNewValidatesOptions(t *testing.T) {
	const token = "tok-secret-1"
	tests := []struct {
		name string
		o    jira.Options
	}{
		{"no base URL", jira.Options{Token: token}},
		{"no token", jira.Options{BaseURL: "https://x.atlassian.net"}},
		{"relative", jira.Options{BaseURL: "x.atlassian.net", Token: token}},
		{"ftp", jira.Options{BaseURL: "ftp://x", Token: token}},
		{"credentials in URL", jira.Options{BaseURL: "https://me:" + token + "@x.atlassian.net", Token: token}},
		{"query", jira.Options{BaseURL: "https://x.atlassian.net?a=b", Token: token}},
		{"unparseable", jira.Options{BaseURL: "https://me:" + token + "@x.atlassian.net/%zz", Token: token}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jira.New(tt.o)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), token) {
				t.Fatalf("error leaks the token: %v", err)
			}
		})
	}
	if _, err := jira.New(jira.Options{BaseURL: "https://jira.example.com/jira/", Token: token}); err != nil {
		t.Fatalf("context path: %v", err)
	}
}

func TestBrowseURLWithContextPath(t *testing.T) {
	srv := jiratest.NewHandler(jiratest.Options{})
	mux := http.NewServeMux()
	mux.Handle("/jira/", http.StripPrefix("/jira", srv))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	c, err := jira.New(jira.Options{BaseURL: hs.URL + "/jira/", User: jiratest.DefaultUser, Token: jiratest.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	ref := mustCreate(t, c, spec("x"))
	if ref.URL != hs.URL+"/jira/browse/OPS-1" {
		t.Fatalf("URL %q", ref.URL)
	}
}

func TestTransition(t *testing.T) {
	ctx := context.Background()
	srv, c := setup(t, jiratest.Options{})
	ref := mustCreate(t, c, spec("x"))
	steps := []struct {
		names      []string
		want       string // transition taken, "" for ErrNoTransition
		status     string // after
		available  []string
		wantNoMove bool
	}{
		// From To Do only "In Progress" exists: "Done" is skipped.
		{names: []string{"Done", "in progress"}, want: "In Progress", status: "In Progress"},
		// From In Progress Jira lists To Do before Done; names order wins.
		{names: []string{"Done", "To Do"}, want: "Done", status: "Done"},
		{names: []string{"Done", "Close"}, status: "Done", available: []string{"Reopen"}},
		{names: []string{"  REOPEN "}, want: "Reopen", status: "To Do"},
	}
	for i, st := range steps {
		got, err := c.Transition(ctx, ref.Key, st.names)
		is, _ := srv.Issue(ref.Key)
		if is.Status != st.status {
			t.Fatalf("step %d: status %q, want %q", i, is.Status, st.status)
		}
		if st.want != "" {
			if err != nil || got != st.want {
				t.Fatalf("step %d: %q %v, want %q", i, got, err, st.want)
			}
			continue
		}
		var nt *jira.ErrNoTransition
		if !errors.As(err, &nt) {
			t.Fatalf("step %d: err %v, want ErrNoTransition", i, err)
		}
		if nt.Key != ref.Key || !reflect.DeepEqual(nt.Available, st.available) || !reflect.DeepEqual(nt.Wanted, st.names) {
			t.Fatalf("step %d: %+v", i, nt)
		}
		if !strings.Contains(err.Error(), `available: ["Reopen"]`) {
			t.Fatalf("message %q does not list the available transitions", err)
		}
		if k, _ := engine.Classify(err); k != engine.Permanent {
			t.Fatalf("ErrNoTransition classified %v", k)
		}
	}
	// The POST carried only the transition id.
	var posts []string
	for _, r := range srv.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/transitions") {
			posts = append(posts, strings.TrimSpace(r.Body))
		}
	}
	if want := []string{`{"transition":{"id":"21"}}`, `{"transition":{"id":"31"}}`, `{"transition":{"id":"41"}}`}; !reflect.DeepEqual(posts, want) {
		t.Fatalf("transition POSTs %q", posts)
	}
	if _, err := c.Transition(ctx, ref.Key, nil); err == nil {
		t.Fatal("no names accepted")
	}
}

func TestCreateSubtask(t *testing.T) {
	ctx := context.Background()
	srv, c := setup(t, jiratest.Options{Projects: []jiratest.Project{
		{Key: "OPS"},
		{Key: "SEC", IssueTypes: []jiratest.IssueType{{Name: "Task"}, {Name: "Subtask", Subtask: true}}},
	}})
	parent := mustCreate(t, c, spec("COE"))
	secParent := mustCreate(t, c, coe.TicketSpec{Project: "SEC", IssueType: "Task", Summary: "COE"})
	tests := []struct {
		name     string
		parent   string
		spec     coe.TicketSpec
		wantType string
		wantKey  string
		errKind  engine.ErrorKind
	}{
		{"defaults", parent.Key, coe.TicketSpec{Summary: "Add alert", Labels: []string{"coe-action"}}, "Sub-task", "OPS-2", 0},
		{"explicit type and project", secParent.Key, coe.TicketSpec{Project: "SEC", IssueType: "Subtask", Summary: "Rotate keys"}, "Subtask", "SEC-2", 0},
		{"project from parent key", secParent.Key, coe.TicketSpec{IssueType: "Subtask", Summary: "x"}, "Subtask", "SEC-3", 0},
		{"unknown parent", "OPS-99", coe.TicketSpec{Summary: "x"}, "", "", engine.Permanent},
		{"sub-task of a sub-task", "OPS-2", coe.TicketSpec{Summary: "x"}, "", "", engine.Permanent},
		{"bad parent key", "OPS 1", coe.TicketSpec{Summary: "x"}, "", "", engine.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := c.CreateSubtask(ctx, tt.parent, tt.spec)
			if tt.errKind != 0 {
				if k, _ := engine.Classify(err); err == nil || k != tt.errKind {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			is, _ := srv.Issue(ref.Key)
			if ref.Key != tt.wantKey || is.Parent != tt.parent || is.IssueType != tt.wantType || is.Summary != tt.spec.Summary {
				t.Fatalf("ref %+v issue %+v", ref, is)
			}
		})
	}
}

func TestComments(t *testing.T) {
	ctx := context.Background()
	srv, c := setup(t, jiratest.Options{})
	ref := mustCreate(t, c, spec("x"))
	id, err := c.AddComment(ctx, ref.Key, "Mirrored to https://github.com/acme/app/issues/7")
	if err != nil || id == "" {
		t.Fatalf("%q %v", id, err)
	}
	if err := c.UpdateComment(ctx, ref.Key, id, "Closed on GitHub"); err != nil {
		t.Fatal(err)
	}
	is, _ := srv.Issue(ref.Key)
	if len(is.Comments) != 1 || is.Comments[0].ID != id || is.Comments[0].Body != "Closed on GitHub" {
		t.Fatalf("comments %+v", is.Comments)
	}
	for _, r := range srv.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/comment") && strings.TrimSpace(r.Body) != `{"body":"Mirrored to https://github.com/acme/app/issues/7"}` {
			t.Fatalf("comment POST body %s", r.Body)
		}
	}
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"empty body", func() error { _, err := c.AddComment(ctx, ref.Key, " "); return err }()},
		{"bad comment id", c.UpdateComment(ctx, ref.Key, "1/../2", "x")},
		{"unknown comment", c.UpdateComment(ctx, ref.Key, "1", "x")},
	} {
		if k, _ := engine.Classify(tt.err); tt.err == nil || k != engine.Permanent {
			t.Fatalf("%s: %v", tt.name, tt.err)
		}
	}
}

type observer struct {
	mu    sync.Mutex
	calls []string
}

func (o *observer) ObserveAPICall(service, outcome string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, service+":"+outcome)
}

func TestObserver(t *testing.T) {
	srv := jiratest.New(jiratest.Options{})
	defer srv.Close()
	obs := &observer{}
	c, err := jira.New(jira.Options{BaseURL: srv.URL, User: jiratest.DefaultUser, Token: jiratest.DefaultToken, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, spec("x"))
	srv.FailNext(1, 429, time.Second)
	_, _ = c.FindByLabel(context.Background(), "x")
	if want := []string{"jira:ok", "jira:rate_limited"}; !reflect.DeepEqual(obs.calls, want) {
		t.Fatalf("observed %v", obs.calls)
	}
}

func TestConcurrentCreates(t *testing.T) {
	srv, c := setup(t, jiratest.Options{})
	var wg sync.WaitGroup
	refs := make(chan coe.TicketRef, 30)
	for i := range 30 {
		wg.Go(func() {
			ref, err := c.CreateTicket(context.Background(), spec(fmt.Sprint("COE ", i), "coe"))
			if err != nil {
				t.Error(err)
				return
			}
			refs <- ref
		})
	}
	wg.Wait()
	close(refs)
	seen := map[string]bool{}
	for r := range refs {
		seen[r.Key] = true
	}
	if len(seen) != 30 || len(srv.Issues()) != 30 {
		t.Fatalf("%d distinct keys, %d issues", len(seen), len(srv.Issues()))
	}
	found, err := c.FindByLabel(context.Background(), "coe")
	if err != nil || len(found) != 30 {
		t.Fatalf("found %d: %v", len(found), err)
	}
}

func BenchmarkCreateTicket(b *testing.B) {
	_, c := setup(b, jiratest.Options{})
	ctx := context.Background()
	s := spec("COE", "coe")
	for b.Loop() {
		if _, err := c.CreateTicket(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFindByLabel(b *testing.B) {
	_, c := setup(b, jiratest.Options{MaxResults: 50})
	ctx := context.Background()
	for i := range 200 {
		mustCreate(b, c, spec(fmt.Sprint("COE ", i), "coe"))
	}
	for b.Loop() {
		refs, err := c.FindByLabel(ctx, "coe")
		if err != nil || len(refs) != 200 {
			b.Fatal(len(refs), err)
		}
	}
}
