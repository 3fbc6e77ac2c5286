package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/slack"
	"github.com/coesync/coesync/connectors/slack/slacktest"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/report"
)

type call struct{ service, outcome string }

type observer struct {
	mu    sync.Mutex
	calls []call
}

func (o *observer) ObserveAPICall(service, outcome string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, call{service, outcome})
}

func newClient(t *testing.T, o slack.Options) *slack.Client {
	t.Helper()
	c, err := slack.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPost(t *testing.T) {
	s := slacktest.New()
	defer s.Close()
	obs := &observer{}
	c := newClient(t, slack.Options{WebhookURL: s.URL(), Observer: obs})
	ctx := context.Background()
	tests := []struct {
		name       string
		fail       func()
		payload    string
		kind       engine.ErrorKind // 0: success
		status     int
		msg        string
		retryAfter time.Duration
	}{
		{name: "ok", payload: `{"text":"hello"}`},
		{name: "blocks", payload: `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]}`},
		{name: "429", fail: func() { s.FailNext(1, 429, 7*time.Second) }, payload: `{"text":"x"}`,
			kind: engine.RateLimited, status: 429, msg: "rate_limited", retryAfter: 7 * time.Second},
		{name: "429 without Retry-After", fail: func() { s.FailNext(1, 429, 0) }, payload: `{"text":"x"}`,
			kind: engine.RateLimited, status: 429, msg: "rate_limited", retryAfter: 60 * time.Second},
		{name: "500", fail: func() { s.FailNext(1, 500, 0) }, payload: `{"text":"x"}`,
			kind: engine.Retryable, status: 500, msg: "internal_error"},
		{name: "503", fail: func() { s.FailNext(1, 503, 3*time.Second) }, payload: `{"text":"x"}`,
			kind: engine.Retryable, status: 503, msg: "service_unavailable", retryAfter: 3 * time.Second},
		{name: "invalid_payload", payload: `not json`,
			kind: engine.Permanent, status: 400, msg: "invalid_payload"},
		{name: "no_text", payload: `{"username":"coesync"}`,
			kind: engine.Permanent, status: 400, msg: "no_text"},
		{name: "no_service", fail: func() { s.FailNext(1, 404, 0) }, payload: `{"text":"x"}`,
			kind: engine.Permanent, status: 404, msg: "no_service"},
		{name: "channel_is_archived", fail: func() { s.FailNext(1, 410, 0) }, payload: `{"text":"x"}`,
			kind: engine.Permanent, status: 410, msg: "channel_is_archived"},
		{name: "empty payload", payload: ` `, kind: engine.Permanent, msg: "empty payload"},
	}
	accepted := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fail != nil {
				tc.fail()
			}
			err := c.Post(ctx, []byte(tc.payload))
			if tc.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				accepted++
				posts := s.Posts()
				if len(posts) != accepted || string(posts[accepted-1]) != tc.payload {
					t.Fatalf("posts %q", posts)
				}
				return
			}
			var e *engine.Error
			if !errors.As(err, &e) {
				t.Fatalf("%v (%T) is not an *engine.Error", err, err)
			}
			if e.Kind != tc.kind || e.Status != tc.status || e.Msg != tc.msg || e.RetryAfter != tc.retryAfter || e.Service != "slack" {
				t.Errorf("got %s status %d msg %q wait %s service %q, want %s %d %q %s slack",
					e.Kind, e.Status, e.Msg, e.RetryAfter, e.Service, tc.kind, tc.status, tc.msg, tc.retryAfter)
			}
			if kind, wait := engine.Classify(err); kind != tc.kind || wait != tc.retryAfter {
				t.Errorf("Classify: %s %s", kind, wait)
			}
			if tc.status != 0 {
				if want := fmt.Sprintf("slack: HTTP %d: %s", tc.status, tc.msg); err.Error() != want {
					t.Errorf("error %q, want %q", err, want)
				}
			}
		})
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.calls) != len(tests)-1 { // the empty payload is not sent
		t.Errorf("%d calls observed, want %d", len(obs.calls), len(tests)-1)
	}
	for _, c := range obs.calls {
		if c.service != "slack" {
			t.Errorf("observed service %q", c.service)
		}
	}
}

func TestNewValidates(t *testing.T) {
	const secret = "VALIDATEsecret0123456789"
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.slack.com/services/T0/B0/" + secret, true},
		{"  https://hooks.slack.com/services/T0/B0/" + secret + "  ", true},
		{"HTTPS://hooks.slack.com/services/T0/B0/" + secret, true},
		{"http://127.0.0.1:8080/services/T0/B0/" + secret, true},
		{"http://[::1]:8080/services/T0/B0/" + secret, true},
		{"http://localhost:8080/services/T0/B0/" + secret, true},
		{"", false},
		{"http://hooks.slack.com/services/T0/B0/" + secret, false}, // http off loopback
		{"http://10.0.0.1/services/T0/B0/" + secret, false},
		{"ftp://hooks.slack.com/services/T0/B0/" + secret, false},
		{"https://hooks.slack.com", false},
		{"https://hooks.slack.com/", false},
		{"https://user:" + secret + "@hooks.slack.com/services/x", false},
		{"https://hooks.slack.com/services/x#" + secret, false},
		{"hooks.slack.com/services/T0/B0/" + secret, false},
		{"https:///services/T0/B0/" + secret, false},
		{"https://hooks.slack.com/services/%zz/" + secret, false},
		{"mailto:" + secret, false},
	} {
		_, err := slack.New(slack.Options{WebhookURL: tc.url})
		if (err == nil) != tc.ok {
			t.Errorf("New(%q): %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("New(%q): the error quotes the URL: %v", tc.url, err)
		}
	}
}

// The distinctive secret of the scrub tests.
const (
	secretToken = "Zq9SECRETxK7pL2mN4vB8cR1"
	secretPath  = "/services/TSECRET01/BSECRET02/" + secretToken
)

// assertNoSecret checks every way err could be shown: its text, fmt verbs,
// every error in its chain, slog, and that no *url.Error (which carries
// the URL in a field) is reachable.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var shown []string
	shown = append(shown, err.Error(), fmt.Sprintf("%v|%+v|%#v|%s|%q", err, err, err, err, err))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Error("post failed", "err", err)
	slog.New(slog.NewTextHandler(&buf, nil)).Error("post failed", "err", err)
	shown = append(shown, buf.String())
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		shown = append(shown, e.Error(), fmt.Sprintf("%#v", e))
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	var ue *url.Error
	if errors.As(err, &ue) {
		t.Errorf("a *url.Error (with the URL %q) is in the chain", ue.URL)
	}
	for _, s := range shown {
		for _, secret := range append(secrets, secretToken, secretPath, url.PathEscape(secretPath), "TSECRET01") {
			if strings.Contains(s, secret) {
				t.Errorf("the secret %q shows in %q", secret, s)
			}
		}
	}
}

func TestSecretScrubbed(t *testing.T) {
	// A handler that answers with status and echoes the URL in its body,
	// as a proxy or a misbehaving server might.
	echo := func(status int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if status/100 == 3 {
				w.Header().Set("Location", "https://elsewhere.example"+r.URL.Path)
			}
			w.WriteHeader(status)
			fmt.Fprintf(w, "invalid_payload for http://%s%s (%s) %s", r.Host, r.URL.Path, url.PathEscape(r.URL.Path), secretToken)
		}))
	}
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		io.Copy(io.Discard, r.Body)
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer func() {
		close(block)
		slow.Close()
	}()

	// A closed port: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name   string
		base   string
		rt     http.RoundTripper
		ctx    context.Context
		kind   engine.ErrorKind
		status int
		check  func(t *testing.T, err error)
	}{
		{name: "network error", base: closed, kind: engine.Retryable},
		{name: "client timeout", base: slow.URL, kind: engine.Retryable, check: func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%v is not a DeadlineExceeded", err)
			}
			var te interface{ Timeout() bool }
			if !errors.As(err, &te) || !te.Timeout() {
				t.Errorf("%v is not a timeout", err)
			}
		}},
		{name: "context cancelled", base: slow.URL, ctx: cancelled, kind: engine.Retryable, check: func(t *testing.T, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%v is not Canceled", err)
			}
		}},
		{name: "400 echoing the URL", base: "", status: 400, kind: engine.Permanent},
		{name: "403 echoing the URL", base: "", status: 403, kind: engine.Permanent},
		{name: "500 echoing the URL", base: "", status: 500, kind: engine.Retryable},
		{name: "302 to elsewhere", base: "", status: 302, kind: engine.Permanent},
		{name: "transport error quoting the URL", base: "http://127.0.0.1:9", kind: engine.Retryable,
			rt: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return nil, fmt.Errorf("proxy refused %s (%q, path %s, raw %s)", r.URL, r.URL.String(), r.URL.Path, r.URL.EscapedPath())
			})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := tc.base
			if tc.status != 0 {
				srv := echo(tc.status)
				defer srv.Close()
				base = srv.URL
			}
			wh := base + secretPath
			c := newClient(t, slack.Options{WebhookURL: wh, Timeout: 200 * time.Millisecond, Transport: tc.rt})
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			err := c.Post(ctx, []byte(`{"text":"hi"}`))
			assertNoSecret(t, err, wh, strings.TrimPrefix(wh, "http://"))
			var e *engine.Error
			if !errors.As(err, &e) {
				t.Fatalf("%v is not an *engine.Error", err)
			}
			if e.Kind != tc.kind || e.Status != tc.status {
				t.Errorf("%v: kind %s status %d, want %s %d", err, e.Kind, e.Status, tc.kind, tc.status)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			t.Log(err)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOptionsAndClientHideTheURL(t *testing.T) {
	wh := "https://hooks.slack.com" + secretPath
	o := slack.Options{WebhookURL: wh, Timeout: 5 * time.Second}
	c := newClient(t, o)
	var shown []string
	for _, v := range []any{o, &o, c, *c, struct{ O slack.Options }{o}, []any{o, c}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%T"} {
			shown = append(shown, fmt.Sprintf(verb, v))
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "v", v)
		shown = append(shown, buf.String())
	}
	j, err := json.Marshal(struct{ Slack slack.Options }{o})
	if err != nil {
		t.Fatal(err)
	}
	shown = append(shown, string(j))
	for _, s := range shown {
		if strings.Contains(s, secretToken) || strings.Contains(s, "SECRET0") {
			t.Errorf("the webhook URL shows in %q", s)
		}
	}
	if got, want := o.String(), "slack.Options{WebhookURL: https://hooks.slack.com/[REDACTED], Timeout: 5s}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (slack.Options{}).String(); got != `slack.Options{WebhookURL: "", Timeout: 0s}` {
		t.Errorf("empty Options: %q", got)
	}
	if got := (slack.Options{WebhookURL: "not a url " + secretToken}).String(); strings.Contains(got, secretToken) {
		t.Errorf("invalid URL shown: %q", got)
	}
}

func TestConcurrentPosts(t *testing.T) {
	s := slacktest.New()
	defer s.Close()
	c := newClient(t, slack.Options{WebhookURL: s.URL()})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Post(context.Background(), []byte(fmt.Sprintf(`{"text":"%d"}`, i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(s.Posts()); n != 20 {
		t.Errorf("%d posts, want 20", n)
	}
}

// The weekly report's Slack payload is accepted by the fake, which checks
// Slack's limits.
func TestPostReport(t *testing.T) {
	s := slacktest.New()
	defer s.Close()
	c := newClient(t, slack.Options{WebhookURL: s.URL()})
	loc := time.UTC
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, loc)
	r := report.Build(report.Input{
		Now: now, Location: loc,
		COEs: []report.COE{{Key: "OPS-1", Title: "<!here> outage", Team: "@channel", Created: now.Add(-72 * time.Hour)}},
		Items: []report.ActionItem{{Key: "OPS-2", COEKey: "OPS-1", Title: "fix", Owner: "<@U123>",
			Opened: now.Add(-70 * time.Hour), Due: now.Add(-24 * time.Hour)}},
	})
	payload, err := r.Slack("https://coesync.example.com/report?week=2026-W47")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Post(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	posts := s.Posts()
	if len(posts) != 1 || !bytes.Equal(posts[0], payload) {
		t.Fatalf("posts %q", posts)
	}
	for _, bad := range []string{"<!here>", "<@U123>", "@channel"} {
		if bytes.Contains(posts[0], []byte(bad)) {
			t.Errorf("%q reached the channel", bad)
		}
	}
}
