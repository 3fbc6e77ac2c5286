// Package pdtest is a fake PagerDuty REST API for tests, the demo and
// benchmarks. It serves incidents, their log entries and notes in the real
// wire format (as in PagerDuty's OpenAPI document), checks the API token
// and methods, records requests and injects faults. It does not depend on
// package testing.
package pdtest

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coesync/coesync/connectors/internal/fake"
)

// Request is one request the server received. Header holds only Accept,
// Content-Type, From and User-Agent; the Authorization header is never
// kept, only whether it matched.
type Request struct {
	Method     string
	Path       string
	Query      url.Values
	Header     http.Header
	Authorized bool
	Body       []byte
}

var keptHeaders = []string{"Accept", "Content-Type", "From", "User-Agent"}

// Server is a fake PagerDuty REST API on a loopback httptest.Server. It is
// safe for concurrent use.
//
// Routes: GET /incidents/{id}, GET /incidents/{id}/log_entries (offset,
// limit, total, is_overview; served newest first), GET
// /incidents/{id}/alerts (offset, limit, total; oldest first), GET and POST
// /incidents/{id}/notes, GET /users (query, offset, limit). A note's From
// header must be the email of a user of the account (see AddUser). Every request needs "Authorization: Token
// token=<token>" (401 otherwise); a wrong method is 405, an unknown
// incident or path 404, all with PagerDuty's {"error":{...}} body.
type Server struct {
	srv   *httptest.Server
	token string

	requests *fake.Log[Request]
	faults   fake.Faults
	disrupt  fake.Disruptions

	mu        sync.Mutex
	incidents map[string]*Incident
	users     []User // besides Alice, Bob, Carol and the incidents' people
	readOnly  bool
	seq       int
}

// New starts a server that accepts token.
func New(token string) *Server {
	s := &Server{token: token, incidents: make(map[string]*Incident), requests: fake.NewLog(requestRoute, cloneRequest)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.disrupt.Serve(w, r, http.HandlerFunc(s.serve))
	}))
	return s
}

// URL is the server's base URL, for pagerduty.Options.BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// AddIncident adds or replaces an incident. Zero fields get defaults
// (Number derived from ID, Status from ResolvedAt, Urgency "high", ...),
// and log entries and notes without an ID get one. It panics when fx.ID is
// empty.
func (s *Server) AddIncident(fx Incident) {
	fx = normalize(fx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.incidents[fx.ID] = &fx
}

// Notes returns the incident's notes, including those added through the
// API, oldest first; nil for an unknown incident.
func (s *Server) Notes(id string) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	fx := s.incidents[id]
	if fx == nil {
		return nil
	}
	notes := slices.Clone(fx.Notes)
	slices.SortStableFunc(notes, func(a, b Note) int { return a.At.Compare(b.At) })
	return notes
}

// Latency delays every response by d (0 turns it off). A client that
// gives up earlier sees its own timeout.
func (s *Server) Latency(d time.Duration) { s.faults.SetLatency(d) }

// FailNext answers the next n requests with status and PagerDuty's error
// body, plus "Retry-After: <seconds>" when retryAfter > 0 (rounded up to
// whole seconds): whatever they are, or those of a method and, when given,
// a path suffix (see SlowNext). It replaces an earlier FailNext that has
// not run out.
func (s *Server) FailNext(n int, status int, retryAfter time.Duration, methodAndSuffix ...string) {
	s.faults.FailNextMatching(n, status, retryAfter, fake.MatchRequest(methodAndSuffix...))
}

// SetFaultRate makes each request fail at random, after any FailNext: with
// probability p5xx a 500, with probability p429 a 429 with "Retry-After:
// 1". The sequence is determined by seed (and the order of requests).
// Zero rates turn it off.
func (s *Server) SetFaultRate(p5xx, p429 float64, seed int64) {
	s.faults.SetFaultRand(min(max(p5xx, 0), 1), min(max(p429, 0), 1),
		rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)))
}

// Disrupt makes requests, at random from seed, answer after slow
// (probability pSlow) or lose their connection before (pDropBefore) or
// after (pDropAfter) they are served; see fake.Disruptions.
func (s *Server) Disrupt(pSlow float64, slow time.Duration, pDropBefore, pDropAfter float64, seed int64) {
	s.disrupt.Set(pSlow, slow, pDropBefore, pDropAfter, seed)
}

// SlowNext makes the next n requests answer after d, applied all the
// same: a client that gives up sooner cannot tell whether they landed.
// With a method (and a path suffix), only requests that match count.
func (s *Server) SlowNext(n int, d time.Duration, methodAndSuffix ...string) {
	s.disrupt.SlowNext(n, d, fake.MatchRequest(methodAndSuffix...))
}

// Injected returns the faults and disruptions injected so far.
func (s *Server) Injected() (fake.FaultCounts, fake.DisruptionCounts) {
	return s.faults.Injected(), s.disrupt.Counts()
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request { return s.requests.All() }

// Count returns how many requests had method ("" for any) and a path
// starting with pathPrefix.
func (s *Server) Count(method, pathPrefix string) int { return s.requests.Count(method, pathPrefix) }

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() { s.requests.Reset() }

func requestRoute(r Request) (method, path string) { return r.Method, r.Path }

func cloneRequest(r Request) Request {
	r.Query = fake.CloneValues(r.Query)
	r.Header = r.Header.Clone()
	r.Body = slices.Clone(r.Body)
	return r
}

const maxRequestBody = 1 << 20

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	rec := Request{
		Method:     r.Method,
		Path:       r.URL.Path,
		Query:      r.URL.Query(),
		Header:     make(http.Header),
		Authorized: s.authorized(r),
		Body:       body,
	}
	for _, k := range keptHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			rec.Header[k] = slices.Clone(v)
		}
	}
	s.requests.Add(rec)

	if !fake.Delay(r.Context(), s.faults.Latency()) {
		return
	}
	if f, ok := s.faults.NextFor(r); ok {
		fake.SetRetryAfter(w.Header(), f.RetryAfter)
		writeError(w, f.Status, errorFor(f.Status))
		return
	}
	if !rec.Authorized {
		writeError(w, http.StatusUnauthorized, wireError{Message: "Authentication failed", Code: 2006})
		return
	}
	s.route(w, r, body)
}

func (s *Server) authorized(r *http.Request) bool {
	want := "Token token=" + s.token
	got := r.Header.Get("Authorization")
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func errorFor(status int) wireError {
	switch status {
	case http.StatusTooManyRequests:
		return wireError{Message: "Rate Limit Exceeded", Code: 2020}
	case http.StatusNotFound:
		return notFound
	case http.StatusUnauthorized:
		return wireError{Message: "Authentication failed", Code: 2006}
	}
	msg := http.StatusText(status)
	if msg == "" {
		msg = "Error"
	}
	return wireError{Message: msg}
}

var notFound = wireError{Message: "Not Found", Code: 2100}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	if strings.Trim(r.URL.Path, "/") == "users" { // users.go
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeError(w, http.StatusMethodNotAllowed, wireError{Message: "Method Not Allowed"})
			return
		}
		s.listUsers(w, r)
		return
	}
	if strings.Trim(r.URL.Path, "/") == "incidents" { // list.go
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeError(w, http.StatusMethodNotAllowed, wireError{Message: "Method Not Allowed"})
			return
		}
		s.listIncidents(w, r)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != "incidents" || parts[1] == "" {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	id, sub := parts[1], ""
	if len(parts) == 3 {
		sub = parts[2]
	}
	allow := func(methods ...string) bool {
		if slices.Contains(methods, r.Method) {
			return true
		}
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeError(w, http.StatusMethodNotAllowed, wireError{Message: "Method Not Allowed"})
		return false
	}
	switch sub {
	case "":
		if allow(http.MethodGet) {
			s.getIncident(w, id)
		}
	case "log_entries":
		if allow(http.MethodGet) {
			s.listLogEntries(w, r, id)
		}
	case "alerts":
		if allow(http.MethodGet) {
			s.listAlerts(w, r, id)
		}
	case "notes":
		if allow(http.MethodGet, http.MethodPost) {
			if r.Method == http.MethodGet {
				s.listNotes(w, id)
			} else {
				s.addNote(w, r, id, body)
			}
		}
	default:
		writeError(w, http.StatusNotFound, notFound)
	}
}

func (s *Server) getIncident(w http.ResponseWriter, id string) {
	s.mu.Lock()
	fx := s.incidents[id]
	var out any
	if fx != nil {
		out = struct {
			Incident wireIncident `json:"incident"`
		}{renderIncident(fx)}
	}
	s.mu.Unlock()
	if out == nil {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// overviewKinds approximates is_overview=true: the status changes and
// escalations, without notifications and annotations.
var overviewKinds = map[string]bool{
	"trigger": true, "acknowledge": true, "unacknowledge": true, "resolve": true,
	"escalate": true, "assign": true, "delegate": true, "snooze": true, "urgency_change": true,
}

func (s *Server) listLogEntries(w http.ResponseWriter, r *http.Request, id string) {
	q := r.URL.Query()
	offset, err1 := intParam(q, "offset", 0)
	limit, err2 := intParam(q, "limit", 25)
	if err1 != nil || err2 != nil || offset < 0 || limit < 1 {
		writeError(w, http.StatusBadRequest, wireError{Message: "Invalid Input Provided", Code: 2001,
			Errors: []string{"offset and limit must be non-negative integers, limit at least 1"}})
		return
	}
	limit = min(limit, 100)
	overview := q.Get("is_overview") == "true"

	s.mu.Lock()
	fx := s.incidents[id]
	var page wireLogEntryPage
	if fx != nil {
		entries := make([]*LogEntry, 0, len(fx.LogEntries))
		for i := range fx.LogEntries {
			if le := &fx.LogEntries[i]; !overview || overviewKinds[le.Kind] {
				entries = append(entries, le)
			}
		}
		// Newest first; clients must not rely on the order.
		slices.SortStableFunc(entries, func(a, b *LogEntry) int { return a.At.Compare(b.At) })
		slices.Reverse(entries)
		lo, hi := min(offset, len(entries)), min(offset+limit, len(entries))
		page = wireLogEntryPage{LogEntries: make([]wireLogEntry, 0, hi-lo), Limit: limit, Offset: offset, More: hi < len(entries)}
		for _, le := range entries[lo:hi] {
			page.LogEntries = append(page.LogEntries, renderLogEntry(fx, le))
		}
		if q.Get("total") == "true" {
			n := len(entries)
			page.Total = &n
		}
	}
	s.mu.Unlock()
	if fx == nil {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func intParam(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}

func (s *Server) listNotes(w http.ResponseWriter, id string) {
	s.mu.Lock()
	fx := s.incidents[id]
	var out struct {
		Notes []wireNote `json:"notes"`
	}
	if fx != nil {
		out.Notes = make([]wireNote, 0, len(fx.Notes))
		for i := range fx.Notes {
			out.Notes = append(out.Notes, renderNote(&fx.Notes[i]))
		}
	}
	s.mu.Unlock()
	if fx == nil {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) addNote(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	if !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/json") {
		// What PagerDuty answers to a body it did not parse as JSON.
		writeError(w, http.StatusBadRequest, wireError{Message: "Invalid Input Provided", Code: 2001, Errors: []string{"params must be a Hash"}})
		return
	}
	if s.refuseWrite(w) {
		return
	}
	from := strings.TrimSpace(r.Header.Get("From"))
	if from == "" {
		writeError(w, http.StatusBadRequest, wireError{Code: 2016,
			Message: `You must specify a user's email address in the "From" header to perform this action`})
		return
	}
	s.mu.Lock()
	author, known := s.userByEmail(from)
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusBadRequest, requesterNotFound)
		return
	}
	var in struct {
		Note *struct {
			Content string `json:"content"`
		} `json:"note"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Note == nil {
		writeError(w, http.StatusBadRequest, wireError{Message: "Invalid Input Provided", Code: 2001, Errors: []string{"Note is required"}})
		return
	}
	if strings.TrimSpace(in.Note.Content) == "" {
		writeError(w, http.StatusBadRequest, wireError{Message: "Invalid Input Provided", Code: 2001, Errors: []string{"Content cannot be empty"}})
		return
	}

	s.mu.Lock()
	fx := s.incidents[id]
	var out struct {
		Note wireNote `json:"note"`
	}
	if fx != nil {
		s.seq++
		now := time.Now().UTC().Truncate(time.Second)
		n := Note{ID: fmt.Sprintf("N%sA%04d", strings.ToUpper(id), s.seq), At: now, Author: author, Content: in.Note.Content}
		fx.Notes = append(fx.Notes, n)
		// Adding a note logs an annotate entry, as in PagerDuty.
		fx.LogEntries = append(fx.LogEntries, LogEntry{ID: fmt.Sprintf("R%sA%04d", strings.ToUpper(id), s.seq),
			Kind: "annotate", At: now, Agent: author.AsAgent(), Channel: "note", Summary: "Note added"})
		out.Note = renderNote(&n)
	}
	s.mu.Unlock()
	if fx == nil {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"Internal Server Error"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, e wireError) {
	writeJSON(w, status, wireErrorBody{Error: e})
}
