// Package jiratest is a fake Jira Cloud REST API v2 for tests, the demo and
// benchmarks. It keeps issues in memory and serves the endpoints coesync
// uses with Jira's methods, paths, status codes, JSON shapes and error bodies
// ({"errorMessages":[...],"errors":{...}}), including the 410 Gone of the
// removed /rest/api/2/search and the eventual consistency of its replacement
// /rest/api/2/search/jql (Options.SearchLag, lifted per issue by
// reconcileIssues). With Options.DataCenter it searches as Jira Data Center
// and Server do instead: no /search/jql (404), and the classic
// /rest/api/2/search with startAt/maxResults/total paging.
//
// Beyond the API it models what happens around it: people changing issues
// out-of-band (SetStatus, Edit, Assign, SetDue, EditSummary, Link, Delete),
// a user directory (AddUser), and Jira's signed issue webhooks for every
// change (SendWebhooks, DropWebhooks, Flush).
//
// It does not depend on package testing: New starts a real HTTP server on a
// loopback port; Close stops it. Server is also an http.Handler, to mount
// the fake elsewhere. All methods are safe for concurrent use.
package jiratest

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coesync/coesync/connectors/internal/fake"
)

// Default credentials, accepted when Options sets none.
const (
	DefaultUser  = "coesync@example.com"
	DefaultToken = "jira-test-token"
)

// Default workflow statuses.
const (
	StatusToDo       = "To Do"
	StatusInProgress = "In Progress"
	StatusDone       = "Done"
)

// Status categories, as Jira keys them.
const (
	CategoryNew           = "new"
	CategoryIndeterminate = "indeterminate"
	CategoryDone          = "done"
)

// Options configures a Server. The zero value serves project OPS (Task, Bug,
// Sub-task) with the default workflow to DefaultUser/DefaultToken.
type Options struct {
	// User and Token are the accepted basic-auth credentials (Jira Cloud:
	// account email and API token).
	User, Token string
	// BearerToken is the accepted "Authorization: Bearer" token (Data
	// Center personal access token). When User, Token and BearerToken are
	// all empty, the server accepts DefaultUser/DefaultToken only.
	BearerToken string

	// Projects known to the server; default one project OPS.
	Projects []Project
	// Transitions is the workflow, shared by all issue types. Default:
	// "In Progress" (To Do → In Progress), "To Do" (In Progress → To Do),
	// "Done" (In Progress → Done), "Reopen" (Done → To Do).
	Transitions []Transition
	// InitialStatus of a new issue; default "To Do".
	InitialStatus string
	// StatusCategories maps status names to CategoryNew, CategoryIndeterminate
	// or CategoryDone, for statuses other than the default three; unknown
	// statuses are indeterminate.
	StatusCategories map[string]string

	// SearchLag models /search/jql's eventual consistency: an issue created
	// less than SearchLag ago is not found by search. Default 0.
	SearchLag time.Duration
	// Now is the clock for created/updated, SearchLag and the rate limiter;
	// nil means time.Now.
	Now func() time.Time
	// Location is the time zone of timestamps and of JQL dates; nil means UTC.
	Location *time.Location
	// MaxResults caps a search page (Jira Cloud returns at most 100 issues
	// a /search/jql page when fields are requested); default 100.
	MaxResults int

	// DataCenter makes the server search as Jira Data Center / Server does:
	// /rest/api/2/search/jql does not exist (404, with Data Center's
	// {"message","status-code"} body) and GET and POST /rest/api/2/search
	// answer {"startAt","maxResults","total","issues"} pages, with the same
	// JQL support and SearchLag, every navigable field by default, and no
	// reconcileIssues (POST refuses the member with 400, as it does any
	// unknown one). When false, /rest/api/2/search answers 410 Gone as Jira
	// Cloud does.
	DataCenter bool

	// Addr is the listen address; default "127.0.0.1:0".
	Addr string
}

// Project is a Jira project known to the fake.
type Project struct {
	Key  string
	Name string
	// IssueTypes default to Task, Bug and Sub-task (a sub-task type).
	IssueTypes []IssueType
	// Components, when non-nil, are the only component names accepted on
	// create; nil accepts any name.
	Components []string
}

// IssueType is an issue type of a project.
type IssueType struct {
	Name    string
	Subtask bool
	// RequiredFields are custom fields (by name) that creating an issue
	// of this type requires and that have no default: createmeta lists
	// them as required (createmeta.go). Creates do not enforce them.
	RequiredFields []string
}

// Transition is a workflow transition. From lists the statuses it is
// available from; empty means from every status but To.
type Transition struct {
	ID   string
	Name string
	From []string
	To   string
}

// DefaultProject is the project a zero Options serves.
func DefaultProject() Project {
	return Project{Key: "OPS", Name: "Operations", IssueTypes: DefaultIssueTypes()}
}

// DefaultIssueTypes are Task, Bug and Sub-task.
func DefaultIssueTypes() []IssueType {
	return []IssueType{{Name: "Task"}, {Name: "Bug"}, {Name: "Sub-task", Subtask: true}}
}

// DefaultTransitions is the default workflow:
// To Do ⇄ In Progress → Done, and Reopen from Done to To Do.
func DefaultTransitions() []Transition {
	return []Transition{
		{ID: "11", Name: "To Do", From: []string{StatusInProgress}, To: StatusToDo},
		{ID: "21", Name: "In Progress", From: []string{StatusToDo}, To: StatusInProgress},
		{ID: "31", Name: "Done", From: []string{StatusInProgress}, To: StatusDone},
		{ID: "41", Name: "Reopen", From: []string{StatusDone}, To: StatusToDo},
	}
}

// Request is a request the server received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Body   string
	// Auth is "basic", "bearer" or "" (none or another scheme); the
	// credentials themselves are not recorded.
	Auth string
	At   time.Time
}

// Server is the fake Jira.
type Server struct {
	// URL is the base URL, e.g. "http://127.0.0.1:41234".
	URL string

	opts     Options
	projects map[string]*Project // by upper-case key
	http     *httptest.Server
	mux      *http.ServeMux

	mu          sync.Mutex
	issues      []*Issue          // creation order
	byKey       map[string]*Issue // by upper-case key
	byID        map[string]*Issue
	nextNum     map[string]int // per project
	nextID      int
	nextLinkID  int
	nextComment int
	statusIDs   map[string]string

	// links.go, users.go, webhooks.go
	links         []IssueLink
	nextIssueLink int
	users         map[string]User
	nextChange    int
	hooks         webhooks

	requests *fake.Log[Request]
	faults   fake.Faults
	disrupt  fake.Disruptions
}

// New starts a fake Jira. Call Close when done.
func New(opts Options) *Server {
	s := newServer(opts)
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		panic(fmt.Sprintf("jiratest: listen on %s: %v", addr, err))
	}
	s.URL = "http://" + l.Addr().String()
	s.http = &httptest.Server{Listener: l, Config: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}}
	s.http.Start()
	return s
}

// NewHandler returns a fake Jira that does not listen; serve it yourself
// (Server implements http.Handler). URL is empty and self links are built
// from each request's Host.
func NewHandler(opts Options) *Server { return newServer(opts) }

func newServer(opts Options) *Server {
	if opts.User == "" && opts.Token == "" && opts.BearerToken == "" {
		opts.User, opts.Token = DefaultUser, DefaultToken
	}
	if len(opts.Projects) == 0 {
		opts.Projects = []Project{DefaultProject()}
	}
	if len(opts.Transitions) == 0 {
		opts.Transitions = DefaultTransitions()
	}
	if opts.InitialStatus == "" {
		opts.InitialStatus = StatusToDo
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.MaxResults <= 0 {
		opts.MaxResults = 100
	}
	s := &Server{
		opts:        opts,
		projects:    map[string]*Project{},
		byKey:       map[string]*Issue{},
		byID:        map[string]*Issue{},
		nextNum:     map[string]int{},
		nextID:      10000,
		nextLinkID:  10000,
		nextComment: 10000,
		statusIDs:   map[string]string{StatusToDo: "10000", StatusInProgress: "3", StatusDone: "10001"},
		requests:    fake.NewLog(requestRoute, cloneRequest),
	}
	s.faults.Now = s.now
	for i := range opts.Projects {
		p := opts.Projects[i]
		p.Key = strings.ToUpper(p.Key)
		if p.Name == "" {
			p.Name = p.Key
		}
		if len(p.IssueTypes) == 0 {
			p.IssueTypes = DefaultIssueTypes()
		}
		s.projects[p.Key] = &p
	}
	s.routes()
	return s
}

// Close stops the server and its webhook sender; webhooks not yet
// delivered are dropped.
func (s *Server) Close() {
	s.hooks.close()
	if s.http != nil {
		s.http.Close()
	}
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// ---- fault injection ----

// Latency delays every response by d (0 turns it off). A request whose
// context ends first gets no answer.
func (s *Server) Latency(d time.Duration) { s.faults.SetLatency(d) }

// FailNext answers the next n requests with status and an Atlassian error
// body, plus "Retry-After: <seconds>" when retryAfter > 0 (rounded up).
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	s.faults.FailNext(n, status, retryAfter)
}

// SetFaultRate makes each request fail at random with a 500 (probability
// p5xx) or a 429 with Retry-After: 1 (probability p429), reproducibly for a
// given seed and request order. Zero rates turn it off.
func (s *Server) SetFaultRate(p5xx, p429 float64, seed int64) {
	s.faults.SetFaultRate(p5xx, p429, seed)
}

// RateLimit admits perSecond requests a second on average, in bursts of up
// to max(1, perSecond), and answers the others 429 with Retry-After (on the
// Options.Now clock). perSecond <= 0 turns it off.
func (s *Server) RateLimit(perSecond float64) { s.faults.RateLimit(perSecond) }

// ---- inspection ----

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request { return s.requests.All() }

// Count returns how many requests had method (any when "") and a path
// starting with pathPrefix.
func (s *Server) Count(method, pathPrefix string) int { return s.requests.Count(method, pathPrefix) }

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() { s.requests.Reset() }

func requestRoute(r Request) (method, path string) { return r.Method, r.Path }

func cloneRequest(r Request) Request {
	r.Query = fake.CloneValues(r.Query)
	return r
}

// ---- HTTP ----

// ServeHTTP implements http.Handler: disrupt (Disrupt), record, delay,
// inject faults, check credentials, then route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.disrupt.Serve(w, r, http.HandlerFunc(s.serveHTTP))
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

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, []string{"Could not read the request body."}, nil)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	s.requests.Add(Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Body:   string(body),
		Auth:   authScheme(r),
		At:     s.now(),
	})

	if !fake.Delay(r.Context(), s.faults.Latency()) {
		return
	}

	if f, failed := s.faults.Next(); failed {
		fake.SetRetryAfter(w.Header(), f.RetryAfter)
		msg := http.StatusText(f.Status)
		if f.Status == http.StatusTooManyRequests {
			msg = "Rate limit exceeded."
		}
		writeError(w, f.Status, []string{msg}, nil)
		return
	}

	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
		writeError(w, http.StatusUnauthorized, []string{"You are not authenticated. Authentication required to perform this operation."}, nil)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func authScheme(r *http.Request) string {
	h := r.Header.Get("Authorization")
	switch {
	case len(h) > 6 && strings.EqualFold(h[:6], "basic "):
		return "basic"
	case len(h) > 7 && strings.EqualFold(h[:7], "bearer "):
		return "bearer"
	}
	return ""
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if s.opts.BearerToken != "" && len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return eq(strings.TrimSpace(h[7:]), s.opts.BearerToken)
	}
	if (s.opts.User != "" || s.opts.Token != "") && len(h) > 6 && strings.EqualFold(h[:6], "basic ") {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[6:]))
		if err != nil {
			return false
		}
		user, tok, ok := strings.Cut(string(raw), ":")
		return ok && eq(user, s.opts.User) && eq(tok, s.opts.Token)
	}
	return false
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// user is the display name of the caller, for comment authors.
func (s *Server) user(r *http.Request) string {
	if u, _, ok := r.BasicAuth(); ok && u != "" {
		return u
	}
	return "coesync-bot"
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /rest/api/2/issue", s.createIssue)
	m.HandleFunc("POST /rest/api/2/issue/bulk", s.createIssues)
	m.HandleFunc("GET /rest/api/2/issue/{key}", s.getIssue)
	m.HandleFunc("PUT /rest/api/2/issue/{key}", s.editIssue)
	if s.opts.DataCenter {
		m.HandleFunc("GET /rest/api/2/search", s.searchClassic)
		m.HandleFunc("POST /rest/api/2/search", s.searchClassic)
		m.HandleFunc("/rest/api/2/search/jql", s.notFoundDC)
		m.HandleFunc("/rest/api/3/", s.notFoundDC) // Data Center has no API v3
	} else {
		m.HandleFunc("GET /rest/api/2/search", s.searchGone)
		m.HandleFunc("POST /rest/api/2/search", s.searchGone)
		m.HandleFunc("GET /rest/api/3/search", s.searchGone)
		m.HandleFunc("POST /rest/api/3/search", s.searchGone)
		m.HandleFunc("GET /rest/api/2/search/jql", s.searchJQL)
		m.HandleFunc("POST /rest/api/2/search/jql", s.searchJQL)
	}
	m.HandleFunc("GET /rest/api/2/issue/{key}/remotelink", s.getRemoteLinks)
	m.HandleFunc("POST /rest/api/2/issue/{key}/remotelink", s.postRemoteLink)
	m.HandleFunc("GET /rest/api/2/issue/{key}/transitions", s.getTransitions)
	m.HandleFunc("POST /rest/api/2/issue/{key}/transitions", s.postTransition)
	m.HandleFunc("GET /rest/api/2/issue/{key}/comment", s.getComments)
	m.HandleFunc("POST /rest/api/2/issue/{key}/comment", s.addComment)
	m.HandleFunc("PUT /rest/api/2/issue/{key}/comment/{id}", s.updateComment)
	m.HandleFunc("GET /rest/api/2/myself", s.getMyself)
	m.HandleFunc("GET /rest/api/2/issue/createmeta/{project}/issuetypes", s.createMetaIssueTypes)  // createmeta.go
	m.HandleFunc("GET /rest/api/2/issue/createmeta/{project}/issuetypes/{id}", s.createMetaFields) // createmeta.go
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, []string{"jiratest: no such endpoint: " + r.Method + " " + r.URL.Path}, nil)
	})
	s.mux = m
}

// baseURL is where self links point.
func (s *Server) baseURL(r *http.Request) string {
	if s.URL != "" {
		return s.URL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// writeError writes Jira's error collection.
func writeError(w http.ResponseWriter, status int, msgs []string, errs map[string]string) {
	if msgs == nil {
		msgs = []string{}
	}
	if errs == nil {
		errs = map[string]string{}
	}
	writeJSON(w, status, map[string]any{"errorMessages": msgs, "errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
