package pagerduty_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

// testToken is distinctive so that a leak into an error is easy to spot.
const testToken = "pdtok-Zq9xV3s8LwK2mN7r"

var est = time.FixedZone("EST", -5*3600)

func newClient(t *testing.T, srv *pdtest.Server, mod ...func(*pagerduty.Options)) *pagerduty.Client {
	t.Helper()
	o := pagerduty.Options{BaseURL: srv.URL(), Token: testToken, From: pdtest.Bob.Email, Timeout: 5 * time.Second}
	for _, m := range mod {
		m(&o)
	}
	c, err := pagerduty.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newServer(t *testing.T) *pdtest.Server {
	t.Helper()
	srv := pdtest.New(testToken)
	t.Cleanup(srv.Close)
	return srv
}

// noToken fails the test when err or the *engine.Error in it mentions the token.
func noToken(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error leaks the token: %v", err)
	}
	var e *engine.Error
	if errors.As(err, &e) && (strings.Contains(e.Error(), testToken) || strings.Contains(e.Msg, testToken)) {
		t.Errorf("*engine.Error leaks the token: %v", e)
	}
}

func TestIncident(t *testing.T) {
	srv := newServer(t)
	base := time.Date(2024, 5, 1, 9, 0, 0, 0, est)
	rich := pdtest.RichIncident("PRICH01", base)
	simple := pdtest.SimpleIncident("PSIMP01", base)
	srv.AddIncident(rich)
	srv.AddIncident(simple)
	c := newClient(t, srv)

	tests := []struct {
		id   string
		want coe.Incident
	}{
		{"PRICH01", coe.Incident{
			ID: "PRICH01", Number: rich.Number, Title: "Checkout API 5xx rate above 5%",
			URL: pdtest.WebBase + "/incidents/PRICH01", Status: "resolved", Urgency: "high", Priority: "P1",
			IncidentKey: "checkout-5xx-prich01", ServiceID: "PSVC001", ServiceName: "Checkout API",
			ServiceURL: pdtest.WebBase + "/service-directory/PSVC001",
			Teams:      []coe.Team{{ID: "PTEAM01", Name: "Payments"}}, EscalationPolicy: "Payments On-Call",
			CreatedAt: base.UTC(), ResolvedAt: base.Add(47 * time.Minute).UTC(),
		}},
		{"PSIMP01", coe.Incident{
			ID: "PSIMP01", Number: simple.Number, Title: "Disk usage above 90% on db-7",
			URL: pdtest.WebBase + "/incidents/PSIMP01", Status: "resolved", Urgency: "low",
			IncidentKey: "psimp01-key", ServiceID: "PSVC002", ServiceName: "Storage",
			ServiceURL: pdtest.WebBase + "/service-directory/PSVC002",
			Teams:      []coe.Team{{ID: "PTEAM02", Name: "Storage"}}, EscalationPolicy: "Storage On-Call",
			CreatedAt: base.UTC(), ResolvedAt: base.Add(12 * time.Minute).UTC(),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, err := c.Incident(context.Background(), tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Incident =\n %+v\nwant\n %+v", got, tt.want)
			}
			if got.CreatedAt.Location() != time.UTC || got.Duration() <= 0 {
				t.Errorf("times: created %v, duration %v", got.CreatedAt, got.Duration())
			}
		})
	}

	t.Run("assignees and unresolved", func(t *testing.T) {
		srv.AddIncident(pdtest.Incident{ID: "POPEN01", Assignees: []pdtest.User{pdtest.Alice, pdtest.Carol}})
		got, err := c.Incident(context.Background(), "POPEN01")
		if err != nil {
			t.Fatal(err)
		}
		want := []coe.Person{{ID: pdtest.Alice.ID, Name: pdtest.Alice.Name}, {ID: pdtest.Carol.ID, Name: pdtest.Carol.Name}}
		if !reflect.DeepEqual(got.Assignees, want) || got.Status != "triggered" || !got.ResolvedAt.IsZero() || got.Priority != "" {
			t.Fatalf("Incident = %+v", got)
		}
	})
}

func TestLogEntriesRich(t *testing.T) {
	srv := newServer(t)
	base := time.Date(2024, 5, 1, 9, 0, 0, 0, est)
	srv.AddIncident(pdtest.RichIncident("PRICH01", base))
	got, err := newClient(t, srv).LogEntries(context.Background(), "PRICH01")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		kind    coe.LogKind
		after   time.Duration
		actor   string
		channel string
		subject string
	}
	want := []row{
		{coe.LogTrigger, 0, "Datadog", "api", ""},
		{coe.LogNotify, 5 * time.Second, "Checkout API", "sms", "Alice Smith"},
		{coe.LogEscalate, 5 * time.Minute, "Checkout API", "timeout", ""},
		{coe.LogNotify, 5*time.Minute + 5*time.Second, "Checkout API", "phone", "Bob Jones"},
		{coe.LogAcknowledge, 8 * time.Minute, "Bob Jones", "website", ""},
		{coe.LogAnnotate, 15 * time.Minute, "Bob Jones", "note", ""},
		{coe.LogAnnotate, 30 * time.Minute, "Alice Smith", "note", ""},
		{coe.LogResolve, 47 * time.Minute, "Bob Jones", "website", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || !g.At.Equal(base.Add(w.after)) || g.At.Location() != time.UTC ||
			g.Actor != w.actor || g.Channel != w.channel || g.Subject != w.subject || g.ID == "" || g.Summary == "" {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
	// The server was asked for the full log, not the overview.
	for _, r := range srv.Requests() {
		if r.Query.Get("is_overview") == "true" {
			t.Errorf("asked for the overview: %v", r.Query)
		}
	}
}

func TestLogEntriesPaginates(t *testing.T) {
	srv := newServer(t)
	base := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	const n = 250
	fx := pdtest.Incident{ID: "PBIG001", CreatedAt: base, ResolvedAt: base.Add(n * time.Minute)}
	for i := range n {
		kind := "notify"
		switch i {
		case 0:
			kind = "trigger"
		case n - 1:
			kind = "resolve"
		}
		fx.LogEntries = append(fx.LogEntries, pdtest.LogEntry{Kind: kind, At: base.Add(time.Duration(i) * time.Minute),
			Agent: pdtest.Agent{Type: "service", ID: "PSVC001", Name: "Checkout API"}, Channel: "auto",
			Summary: fmt.Sprintf("entry %d", i), User: &pdtest.Carol})
	}
	srv.AddIncident(fx)
	got, err := newClient(t, srv).LogEntries(context.Background(), "PBIG001")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("got %d entries, want %d", len(got), n)
	}
	for i, e := range got {
		if e.Summary != fmt.Sprintf("entry %d", i) || !e.At.Equal(base.Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("entry %d = %+v (not oldest first)", i, e)
		}
	}
	reqs := srv.Requests()
	var offsets []string
	for _, r := range reqs {
		if r.Query.Get("limit") != "100" {
			t.Errorf("limit = %q, want 100", r.Query.Get("limit"))
		}
		offsets = append(offsets, r.Query.Get("offset"))
	}
	// go-pagerduty omits offset=0 (omitempty).
	if want := []string{"", "100", "200"}; !reflect.DeepEqual(offsets, want) {
		t.Fatalf("offsets = %q, want %q", offsets, want)
	}
	if c := srv.Count(http.MethodGet, "/incidents/PBIG001/log_entries"); c != 3 {
		t.Fatalf("Count = %d, want 3", c)
	}
}

func TestNotesAndAddNote(t *testing.T) {
	srv := newServer(t)
	base := time.Date(2024, 5, 1, 9, 0, 0, 0, est)
	srv.AddIncident(pdtest.RichIncident("PRICH01", base))
	c := newClient(t, srv)
	ctx := context.Background()

	notes, err := c.Notes(ctx, "PRICH01")
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 ||
		notes[0].Author != "Bob Jones" || !strings.HasPrefix(notes[0].Content, "Action:") || !notes[0].At.Equal(base.Add(15*time.Minute)) ||
		notes[1].Author != "Alice Smith" || !strings.HasPrefix(notes[1].Content, "TODO:") || notes[1].At.Location() != time.UTC ||
		notes[0].ID == "" || notes[0].ID == notes[1].ID {
		t.Fatalf("Notes = %+v", notes)
	}

	const content = "COE drafted: COE-123 https://jira.example.com/browse/COE-123"
	if err := c.AddNote(ctx, "PRICH01", content); err != nil {
		t.Fatal(err)
	}
	var post *pdtest.Request
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			post = &r
		}
	}
	if post == nil || post.Path != "/incidents/PRICH01/notes" || post.Header.Get("From") != pdtest.Bob.Email ||
		!strings.Contains(string(post.Body), `"content":"COE drafted: COE-123`) || !post.Authorized {
		t.Fatalf("POST = %+v", post)
	}
	added := srv.Notes("PRICH01")
	if len(added) != 3 || added[2].Content != content || added[2].Author != pdtest.Bob {
		t.Fatalf("server notes = %+v", added)
	}
	notes, err = c.Notes(ctx, "PRICH01")
	if err != nil || len(notes) != 3 || notes[2].Content != content || notes[2].Author != "Bob Jones" {
		t.Fatalf("Notes after AddNote = %+v, %v", notes, err)
	}
}

func TestAddNoteRejectsLocally(t *testing.T) {
	srv := newServer(t)
	srv.AddIncident(pdtest.SimpleIncident("PSIMP01", time.Now()))
	tests := []struct {
		name    string
		from    string
		id      string
		content string
	}{
		{"no From", "", "PSIMP01", "hello"},
		{"empty content", "bob@example.com", "PSIMP01", " \n"},
		{"bad id", "bob@example.com", "../users", "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv, func(o *pagerduty.Options) { o.From = tt.from })
			err := c.AddNote(context.Background(), tt.id, tt.content)
			var p *engine.PermanentError
			if !errors.As(err, &p) || !strings.HasPrefix(err.Error(), "pagerduty: add note") {
				t.Fatalf("AddNote = %v, want a PermanentError wrapped with the operation", err)
			}
			if k, _ := engine.Classify(err); k != engine.Permanent {
				t.Fatalf("Classify = %v", k)
			}
		})
	}
	if n := srv.Count(http.MethodPost, "/"); n != 0 {
		t.Fatalf("%d POSTs reached the server", n)
	}
}

func TestInvalidIDsNeverSent(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv)
	for _, id := range []string{"", "../users", "P1/notes", "P1?x=1", "P1#x", "P 1", "P%2F1", strings.Repeat("P", 65)} {
		_, err1 := c.Incident(context.Background(), id)
		_, err2 := c.LogEntries(context.Background(), id)
		_, err3 := c.Notes(context.Background(), id)
		for _, err := range []error{err1, err2, err3} {
			if k, _ := engine.Classify(err); err == nil || k != engine.Permanent {
				t.Errorf("id %q: %v", id, err)
			}
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests reached the server", n)
	}
}

// Every operation classifies HTTP failures into an *engine.Error reachable
// with errors.As, wrapped with the operation, without the token.
func TestErrorClassification(t *testing.T) {
	ops := []struct {
		name   string
		prefix string
		call   func(*pagerduty.Client, string) error
	}{
		{"Incident", "pagerduty: get incident ", func(c *pagerduty.Client, id string) error {
			_, err := c.Incident(context.Background(), id)
			return err
		}},
		{"LogEntries", "pagerduty: list log entries of ", func(c *pagerduty.Client, id string) error {
			_, err := c.LogEntries(context.Background(), id)
			return err
		}},
		{"Notes", "pagerduty: list notes of ", func(c *pagerduty.Client, id string) error {
			_, err := c.Notes(context.Background(), id)
			return err
		}},
		{"AddNote", "pagerduty: add note to ", func(c *pagerduty.Client, id string) error {
			return c.AddNote(context.Background(), id, "hello")
		}},
	}
	cases := []struct {
		name       string
		setup      func(*pdtest.Server)
		id         string
		token      string
		kind       engine.ErrorKind
		status     int
		retryAfter time.Duration
	}{
		{"429 Retry-After 7", func(s *pdtest.Server) { s.FailNext(1, 429, 7*time.Second) }, "PSIMP01", testToken, engine.RateLimited, 429, 7 * time.Second},
		{"429 without Retry-After", func(s *pdtest.Server) { s.FailNext(1, 429, 0) }, "PSIMP01", testToken, engine.RateLimited, 429, 60 * time.Second},
		{"500", func(s *pdtest.Server) { s.FailNext(1, 500, 0) }, "PSIMP01", testToken, engine.Retryable, 500, 0},
		{"503 Retry-After 2", func(s *pdtest.Server) { s.FailNext(1, 503, 2*time.Second) }, "PSIMP01", testToken, engine.Retryable, 503, 2 * time.Second},
		{"404 unknown incident", func(*pdtest.Server) {}, "PNOPE99", testToken, engine.Permanent, 404, 0},
		{"401 wrong token", func(*pdtest.Server) {}, "PSIMP01", "wrong-" + testToken, engine.Permanent, 401, 0},
	}
	for _, op := range ops {
		for _, tc := range cases {
			t.Run(op.name+"/"+tc.name, func(t *testing.T) {
				srv := newServer(t)
				srv.AddIncident(pdtest.SimpleIncident("PSIMP01", time.Now()))
				tc.setup(srv)
				c := newClient(t, srv, func(o *pagerduty.Options) { o.Token = tc.token })
				err := op.call(c, tc.id)
				if err == nil {
					t.Fatal("no error")
				}
				noToken(t, err)
				if strings.Contains(err.Error(), tc.token) {
					t.Errorf("error leaks the token in use: %v", err)
				}
				if !strings.HasPrefix(err.Error(), op.prefix+tc.id) {
					t.Errorf("error %q lacks the operation %q", err, op.prefix+tc.id)
				}
				var e *engine.Error
				if !errors.As(err, &e) {
					t.Fatalf("no *engine.Error in %v", err)
				}
				if e.Kind != tc.kind || e.Status != tc.status || e.RetryAfter != tc.retryAfter || e.Service != "pagerduty" {
					t.Fatalf("engine.Error = %+v, want kind %v status %d retry %v", e, tc.kind, tc.status, tc.retryAfter)
				}
				if k, ra := engine.Classify(err); k != tc.kind || ra != tc.retryAfter || engine.StatusOf(err) != tc.status {
					t.Fatalf("Classify = %v %v, StatusOf = %d", k, ra, engine.StatusOf(err))
				}
			})
		}
	}
}

func TestLogEntriesFailsMidway(t *testing.T) {
	srv := newServer(t)
	fx := pdtest.Incident{ID: "PBIG002"}
	for range 150 {
		fx.LogEntries = append(fx.LogEntries, pdtest.LogEntry{Kind: "notify"})
	}
	srv.AddIncident(fx)
	// Let the first page through, then rate limit the second.
	var once sync.Once
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		once.Do(func() { srv.FailNext(1, http.StatusTooManyRequests, 3*time.Second) })
		return resp, err
	})
	c := newClient(t, srv, func(o *pagerduty.Options) { o.Transport = base })
	entries, err := c.LogEntries(context.Background(), "PBIG002")
	var e *engine.Error
	if entries != nil || !errors.As(err, &e) || e.Kind != engine.RateLimited || e.RetryAfter != 3*time.Second {
		t.Fatalf("LogEntries = %d entries, %v", len(entries), err)
	}
	if !strings.HasPrefix(err.Error(), "pagerduty: list log entries of PBIG002 (offset 100): ") {
		t.Fatalf("error %q does not say which page failed", err)
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	srv := newServer(t)
	srv.AddIncident(pdtest.SimpleIncident("PSIMP01", time.Now()))
	srv.Latency(2 * time.Second)
	c := newClient(t, srv, func(o *pagerduty.Options) { o.Timeout = 50 * time.Millisecond })
	_, err := c.Incident(context.Background(), "PSIMP01")
	var e *engine.Error
	if !errors.As(err, &e) || e.Kind != engine.Retryable || e.Status != 0 {
		t.Fatalf("Incident = %v (%+v), want a Retryable *engine.Error", err, e)
	}
	noToken(t, err)
}

func TestContextCancel(t *testing.T) {
	srv := newServer(t)
	srv.AddIncident(pdtest.SimpleIncident("PSIMP01", time.Now()))
	srv.Latency(2 * time.Second)
	c := newClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.LogEntries(ctx, "PSIMP01")
	var e *engine.Error
	if !errors.As(err, &e) || e.Kind != engine.Retryable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LogEntries = %v, want a Retryable *engine.Error wrapping the deadline", err)
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := pdtest.New(testToken)
	url := srv.URL()
	srv.Close()
	c, err := pagerduty.New(pagerduty.Options{BaseURL: url, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Notes(context.Background(), "PSIMP01")
	var e *engine.Error
	if !errors.As(err, &e) || e.Kind != engine.Retryable || e.Status != 0 {
		t.Fatalf("Notes = %v, want a Retryable *engine.Error with status 0", err)
	}
	noToken(t, err)
}

// rawServer answers every request with status and body.
func rawServer(t *testing.T, handler http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestMalformedResponsesArePermanent(t *testing.T) {
	logEntry := func(channel string) string {
		return `{"log_entries":[{"id":"R1","type":"trigger_log_entry","created_at":"2024-01-01T00:00:00Z","channel":` + channel + `}],"more":false}`
	}
	tests := []struct {
		name   string
		status int
		body   string
		call   func(*pagerduty.Client) error
	}{
		{"incident: not JSON", 200, `<html>oops</html>`, func(c *pagerduty.Client) error { _, err := c.Incident(context.Background(), "P1"); return err }},
		{"incident: no incident field", 200, `{}`, func(c *pagerduty.Client) error { _, err := c.Incident(context.Background(), "P1"); return err }},
		{"incident: bad created_at", 200, `{"incident":{"id":"P1","created_at":"yesterday"}}`, func(c *pagerduty.Client) error { _, err := c.Incident(context.Background(), "P1"); return err }},
		{"incident: no id", 200, `{"incident":{"title":"x"}}`, func(c *pagerduty.Client) error { _, err := c.Incident(context.Background(), "P1"); return err }},
		{"log entries: channel.type null (go-pagerduty panics)", 200, logEntry(`{"type":null}`), func(c *pagerduty.Client) error { _, err := c.LogEntries(context.Background(), "P1"); return err }},
		{"log entries: channel.type number", 200, logEntry(`{"type":5}`), func(c *pagerduty.Client) error { _, err := c.LogEntries(context.Background(), "P1"); return err }},
		{"log entries: more=true but empty", 200, `{"log_entries":[],"more":true,"limit":100,"offset":0}`, func(c *pagerduty.Client) error { _, err := c.LogEntries(context.Background(), "P1"); return err }},
		{"notes: no notes field", 200, `{"note":[]}`, func(c *pagerduty.Client) error { _, err := c.Notes(context.Background(), "P1"); return err }},
		{"redirect not followed", 302, ``, func(c *pagerduty.Client) error { _, err := c.Notes(context.Background(), "P1"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tt.status == 302 {
					w.Header().Set("Location", "http://example.invalid/elsewhere")
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			c, err := pagerduty.New(pagerduty.Options{BaseURL: url, Token: testToken})
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(c)
			var e *engine.Error
			if !errors.As(err, &e) || e.Kind != engine.Permanent {
				t.Fatalf("err = %v, want a Permanent *engine.Error", err)
			}
			noToken(t, err)
		})
	}
}

// A server that echoes the credentials into its error body must not get
// the token into our errors.
func TestTokenEchoedByServerIsRedacted(t *testing.T) {
	for _, status := range []int{401, 500} {
		url := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"message":"bad credentials %s"}}`, r.Header.Get("Authorization"))
		})
		c, err := pagerduty.New(pagerduty.Options{BaseURL: url, Token: testToken, From: "a@b.c"})
		if err != nil {
			t.Fatal(err)
		}
		errs := []error{c.AddNote(context.Background(), "P1", "x")}
		_, err = c.Incident(context.Background(), "P1")
		errs = append(errs, err)
		_, err = c.LogEntries(context.Background(), "P1")
		errs = append(errs, err)
		for _, err := range errs {
			if err == nil {
				t.Fatal("no error")
			}
			noToken(t, err)
			if !strings.Contains(err.Error(), "[REDACTED]") {
				t.Errorf("status %d: %v", status, err)
			}
			var e *engine.Error
			if !errors.As(err, &e) || e.Status != status {
				t.Errorf("status %d: chain lost: %v", status, err)
			}
		}
	}
}

type observer struct {
	mu       sync.Mutex
	outcomes map[string]int
}

func (o *observer) ObserveAPICall(service, outcome string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outcomes[service+"/"+outcome]++
}

func TestObserverAndTransport(t *testing.T) {
	srv := newServer(t)
	srv.AddIncident(pdtest.SimpleIncident("PSIMP01", time.Now()))
	obs := &observer{outcomes: map[string]int{}}
	var hops int
	var mu sync.Mutex
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		hops++
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})
	c := newClient(t, srv, func(o *pagerduty.Options) { o.Observer = obs; o.Transport = base })
	srv.FailNext(1, 429, time.Second)
	_, _ = c.Incident(context.Background(), "PSIMP01")
	if _, err := c.Incident(context.Background(), "PSIMP01"); err != nil {
		t.Fatal(err)
	}
	_, _ = c.Incident(context.Background(), "PNOPE")
	want := map[string]int{"pagerduty/rate_limited": 1, "pagerduty/ok": 1, "pagerduty/permanent": 1}
	if !reflect.DeepEqual(obs.outcomes, want) || hops != 3 {
		t.Fatalf("outcomes = %v, hops = %d", obs.outcomes, hops)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Concurrent calls keep their own classification (the per-call state lives
// in the request context).
func TestConcurrentCalls(t *testing.T) {
	srv := newServer(t)
	base := time.Now()
	for i := range 10 {
		srv.AddIncident(pdtest.RichIncident(fmt.Sprintf("PC%03d", i), base))
	}
	c := newClient(t, srv)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("PC%03d", i) // i >= 10 does not exist
			_, err := c.Incident(context.Background(), id)
			es, err2 := c.LogEntries(context.Background(), id)
			switch {
			case i < 10 && (err != nil || err2 != nil || len(es) != 8):
				errs <- fmt.Errorf("%s: %v, %v, %d entries", id, err, err2, len(es))
			case i >= 10 && (engine.StatusOf(err) != 404 || engine.StatusOf(err2) != 404):
				errs <- fmt.Errorf("%s: %v, %v", id, err, err2)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Under random 5xx and 429 faults every failure is classified, and a retry
// loop driven by the classification gets everything.
func TestFaultRateClassified(t *testing.T) {
	srv := newServer(t)
	srv.AddIncident(pdtest.RichIncident("PRICH01", time.Now()))
	srv.SetFaultRate(0.3, 0.2, 7)
	c := newClient(t, srv)
	seen := map[engine.ErrorKind]int{}
	for range 20 {
		var err error
		for attempt := 0; attempt < 50; attempt++ {
			_, err = c.LogEntries(context.Background(), "PRICH01")
			if err == nil {
				break
			}
			var e *engine.Error
			if !errors.As(err, &e) || (e.Kind != engine.Retryable && e.Kind != engine.RateLimited) {
				t.Fatalf("unclassified failure: %v", err)
			}
			seen[e.Kind]++
		}
		if err != nil {
			t.Fatalf("no success in 50 attempts: %v", err)
		}
	}
	if seen[engine.Retryable] == 0 || seen[engine.RateLimited] == 0 {
		t.Fatalf("faults seen: %v", seen)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		o    pagerduty.Options
		ok   bool
	}{
		{"defaults", pagerduty.Options{Token: "t"}, true},
		{"trailing slash", pagerduty.Options{Token: "t", BaseURL: "http://127.0.0.1:1/"}, true},
		{"no token", pagerduty.Options{BaseURL: "https://api.pagerduty.com"}, false},
		{"blank token", pagerduty.Options{Token: "  "}, false},
		{"relative URL", pagerduty.Options{Token: "t", BaseURL: "api.pagerduty.com"}, false},
		{"ftp", pagerduty.Options{Token: "t", BaseURL: "ftp://api.pagerduty.com"}, false},
		{"credentials in URL", pagerduty.Options{Token: "t", BaseURL: "https://user:" + testToken + "@api.pagerduty.com"}, false},
		{"query", pagerduty.Options{Token: "t", BaseURL: "https://api.pagerduty.com?x=1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := pagerduty.New(tt.o)
			if (err == nil) != tt.ok || (c != nil) != tt.ok {
				t.Fatalf("New = %v, %v", c, err)
			}
			noToken(t, err)
		})
	}
}
