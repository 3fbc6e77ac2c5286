// Package slacktest is a fake Slack incoming webhook for tests and the
// demo. It answers like hooks.slack.com: 200 "ok" for a valid message, 400
// "invalid_payload" for a body that is not a JSON object, 400 "no_text"
// when the message has neither text nor blocks, 400 "invalid_blocks" for
// blocks Slack would refuse (more than 50, a block without a type, a text
// over its limit), 404 "no_service" on any other path and 405 for a method
// other than POST. FailNext injects failures (429 with Retry-After, 5xx).
//
// It does not depend on package testing: New starts a real HTTP server on
// a loopback port; Close stops it. All methods are safe for concurrent use.
package slacktest

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coesync/coesync/connectors/internal/fake"
)

// Slack's limits, as documented for Block Kit messages.
const (
	MaxBlocks      = 50
	MaxTextChars   = 3000 // a section's text, a context element
	MaxHeaderChars = 150  // a header's plain_text
	MaxFieldChars  = 2000 // one of a section's fields
	MaxFields      = 10
	// maxBody bounds the request body the fake reads.
	maxBody = 1 << 20
)

// Server is a fake incoming webhook on a loopback httptest.Server.
type Server struct {
	srv  *httptest.Server
	path string

	faults fake.Faults

	mu       sync.Mutex
	posts    [][]byte
	attempts int
}

// New starts a Server. Its webhook path has Slack's shape,
// /services/T…/B…/<secret>, with a random secret: like a real webhook URL,
// the whole URL is the credential.
func New() *Server {
	s := &Server{path: "/services/T0000000000/B0000000000/" + randomSecret()}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL returns the webhook URL (http://127.0.0.1:port/services/T…/B…/…).
func (s *Server) URL() string { return s.srv.URL + s.path }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Posts returns a copy of the raw bodies of the messages accepted (answered
// 200 "ok"), in the order received: what the channel would show. Rejected
// and failed posts are not in it; Attempts counts them.
func (s *Server) Posts() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.posts))
	for i, p := range s.posts {
		out[i] = append([]byte(nil), p...)
	}
	return out
}

// Attempts returns the number of requests received on any path, failed,
// rejected and accepted ones.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// FailNext answers the next n requests, whatever they are, with status and
// Slack's text for it ("rate_limited" for 429, "service_unavailable" for
// 503, …); a positive retryAfter is sent as Retry-After in whole seconds,
// rounded up. It replaces a FailNext that has not run out; n ≤ 0 turns it
// off.
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	s.faults.FailNext(n, status, retryAfter)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody+1))

	s.mu.Lock()
	s.attempts++
	s.mu.Unlock()
	if f, ok := s.faults.Next(); ok {
		fake.SetRetryAfter(w.Header(), f.RetryAfter)
		reply(w, f.Status, failText(f.Status))
		return
	}

	switch {
	case r.URL.Path != s.path:
		reply(w, http.StatusNotFound, "no_service")
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "invalid_method")
		return
	case readErr != nil || len(body) > maxBody:
		reply(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	if code := check(body); code != "" {
		reply(w, http.StatusBadRequest, code)
		return
	}
	s.mu.Lock()
	s.posts = append(s.posts, body)
	s.mu.Unlock()
	reply(w, http.StatusOK, "ok")
}

// message is the part of a payload the fake checks.
type message struct {
	Text   *string           `json:"text"`
	Blocks []json.RawMessage `json:"blocks"`
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type block struct {
	Type     string            `json:"type"`
	Text     *text             `json:"text"`
	Fields   []text            `json:"fields"`
	Elements []json.RawMessage `json:"elements"`
}

// check returns Slack's error code for a payload, "" when it is valid.
func check(body []byte) string {
	var m message
	if !json.Valid(body) || json.Unmarshal(body, &m) != nil {
		return "invalid_payload"
	}
	if (m.Text == nil || *m.Text == "") && len(m.Blocks) == 0 {
		return "no_text"
	}
	if len(m.Blocks) > MaxBlocks {
		return "invalid_blocks"
	}
	for _, raw := range m.Blocks {
		var b block
		if json.Unmarshal(raw, &b) != nil || b.Type == "" {
			return "invalid_blocks"
		}
		limit := MaxTextChars
		if b.Type == "header" {
			limit = MaxHeaderChars
		}
		if b.Text != nil && !fits(b.Text.Text, limit) {
			return "invalid_blocks"
		}
		if len(b.Fields) > MaxFields {
			return "invalid_blocks"
		}
		for _, f := range b.Fields {
			if !fits(f.Text, MaxFieldChars) {
				return "invalid_blocks"
			}
		}
		if b.Type == "context" {
			for _, e := range b.Elements {
				var t text
				if json.Unmarshal(e, &t) == nil && !fits(t.Text, MaxTextChars) {
					return "invalid_blocks"
				}
			}
		}
	}
	return ""
}

func fits(s string, limit int) bool { return utf8.RuneCountInString(s) <= limit }

func failText(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_payload"
	case http.StatusForbidden:
		return "action_prohibited"
	case http.StatusNotFound:
		return "no_service"
	case http.StatusGone:
		return "channel_is_archived"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusInternalServerError:
		return "internal_error"
	case http.StatusServiceUnavailable:
		return "service_unavailable"
	}
	return "error"
}

// reply writes Slack's plain-text answer.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// randomSecret is 24 random characters, like the last segment of a Slack
// webhook URL.
func randomSecret() string { return rand.Text()[:24] }
