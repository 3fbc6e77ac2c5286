// Package ghtest is a fake GitHub REST API (issues and issue comments) for
// tests, the demo and benchmarks. It keeps repositories, issues and comments
// in memory and serves them with GitHub's methods, paths, status codes and
// JSON shapes: Link pagination, weak ETags with If-None-Match → 304 (which,
// as on GitHub, costs no rate limit), X-RateLimit-* headers and a primary
// quota, 410 Gone for deleted issues and 301 Moved Permanently for
// transferred ones (to /repositories/{id}/issues/{number}, as GitHub does).
//
// Every change of an issue, through the API or out of band (CloseIssue,
// Reopen, EditTitle, Assign, Delete, Transfer, OpenIssue), can be posted as a
// signed "issues" webhook (SendWebhooks), in order, from a background
// goroutine; Flush waits for the queue to drain (do not call it from the
// webhook receiver). Like GitHub, the fake never redelivers: a failed or
// dropped (DropWebhooks) delivery is lost.
//
// As on GitHub, a GET's ETag is a hash of that response's body, so a list's
// ETag covers one page: a change to an issue shows on the first page when
// the list is sorted by update time (sort=updated, direction=desc).
//
// It does not depend on package testing: New starts a real HTTP server on a
// loopback port; Close stops it. All methods are safe for concurrent use.
package ghtest

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coesync/coesync/connectors/internal/fake"
)

// Defaults used when Options leaves a field empty.
const (
	DefaultToken = "ghp_ghtestTokenForCoesync0000000000000"
	// DefaultLogin is the user the token belongs to: the author of issues
	// and comments created through the API and the sender of their webhooks.
	DefaultLogin = "coesync-bot"
	// DefaultHuman is the sender of out-of-band changes.
	DefaultHuman = "octocat"
	// DefaultRepo is the repository a zero Options serves.
	DefaultRepo = "acme/action-items"
	// DefaultQuota is GitHub's primary rate limit for a user token.
	DefaultQuota = 5000
	// DefaultMaxPerPage is GitHub's largest page.
	DefaultMaxPerPage = 100
)

// Options configures a Server.
type Options struct {
	// Token is the accepted token, sent as "Authorization: Bearer <token>"
	// or "Authorization: token <token>". Default DefaultToken.
	Token string
	// Login is the token's user; default DefaultLogin.
	Login string
	// Human is the sender of out-of-band changes; default DefaultHuman.
	Human string
	// Repos are the known repositories ("owner/name"); default DefaultRepo.
	// Others answer 404. AddRepo adds more.
	Repos []string
	// MaxPerPage caps per_page below GitHub's 100, to exercise pagination
	// with few issues. Default DefaultMaxPerPage.
	MaxPerPage int
	// Quota is the primary rate limit per hour; 0 means DefaultQuota and a
	// negative value no limit (for benchmarks: go-github refuses calls by
	// itself, until the reset, once a response says none remain).
	Quota int
	// HTMLURL is the web root of html_url links; default "https://github.com/".
	HTMLURL string
	// Now is the clock of timestamps and rate limits; nil means time.Now.
	Now func() time.Time
	// Addr is the listen address; default "127.0.0.1:0".
	Addr string
}

// Request is a request the server received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Body   string
	// IfNoneMatch is the If-None-Match header; Conditional says it was sent.
	IfNoneMatch string
	Conditional bool
	// Auth is "bearer", "token" or "" (none or another scheme); the
	// credentials themselves are not recorded.
	Auth string
	// Status is the response status (0 while the request is in flight or
	// when the client went away during Latency).
	Status int
	At     time.Time
}

// Server is the fake GitHub.
type Server struct {
	opts    Options
	apiBase string // URL with trailing slash
	htmlURL string
	http    *httptest.Server

	mu         sync.Mutex
	repos      map[string]*repo // by lower-case full name
	reposByID  map[int64]*repo
	comments   map[int64]*comment
	labelIDs   map[string]int64
	nextRepoID int64
	nextIssID  int64
	nextComID  int64

	requests *fake.Log[Request]
	faults   fake.Faults
	disrupt  fake.Disruptions

	quotaLeft  int
	quotaReset time.Time
	unlimited  bool

	hooks *hooks
}

// New starts a fake GitHub. Call Close when done.
func New(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Login == "" {
		opts.Login = DefaultLogin
	}
	if opts.Human == "" {
		opts.Human = DefaultHuman
	}
	if len(opts.Repos) == 0 {
		opts.Repos = []string{DefaultRepo}
	}
	if opts.MaxPerPage <= 0 || opts.MaxPerPage > DefaultMaxPerPage {
		opts.MaxPerPage = DefaultMaxPerPage
	}
	unlimited := opts.Quota < 0
	if opts.Quota <= 0 {
		opts.Quota = DefaultQuota
	}
	if opts.HTMLURL == "" {
		opts.HTMLURL = "https://github.com/"
	}
	s := &Server{
		opts:       opts,
		htmlURL:    strings.TrimRight(opts.HTMLURL, "/") + "/",
		repos:      map[string]*repo{},
		reposByID:  map[int64]*repo{},
		comments:   map[int64]*comment{},
		labelIDs:   map[string]int64{},
		nextRepoID: 700000000,
		nextIssID:  2000000000,
		nextComID:  1900000000,
		requests:   fake.NewLog(requestRoute, cloneRequest),
	}
	s.faults.Now = s.now
	s.unlimited = unlimited
	s.hooks = newHooks()
	for _, r := range opts.Repos {
		if err := s.AddRepo(r); err != nil {
			panic("ghtest: " + err.Error())
		}
	}
	s.quotaLeft = opts.Quota
	s.quotaReset = s.now().Add(time.Hour)

	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		panic(fmt.Sprintf("ghtest: listen on %s: %v", addr, err))
	}
	s.http = httptest.NewUnstartedServer(s)
	s.http.Listener.Close()
	s.http.Listener = l
	s.http.Start()
	s.apiBase = s.http.URL + "/"
	return s
}

// URL is the API root with a trailing slash, e.g. "http://127.0.0.1:41234/".
func (s *Server) URL() string { return s.apiBase }

// Addr is the listen address, e.g. "127.0.0.1:41234".
func (s *Server) Addr() string { return s.http.Listener.Addr().String() }

// Token is the accepted token.
func (s *Server) Token() string { return s.opts.Token }

// Close stops the server and the webhook sender; undelivered webhooks are
// dropped.
func (s *Server) Close() {
	s.http.Close()
	s.hooks.close()
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// AddRepo makes the repository ("owner/name") known to the server.
func (s *Server) AddRepo(full string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.addRepoLocked(full)
	return err
}

func (s *Server) addRepoLocked(full string) (*repo, error) {
	owner, name, ok := strings.Cut(full, "/")
	if !ok || !validName(owner) || !validName(name) {
		return nil, fmt.Errorf("invalid repository %q, want owner/name", full)
	}
	key := strings.ToLower(full)
	if r := s.repos[key]; r != nil {
		return r, nil
	}
	s.nextRepoID++
	r := &repo{id: s.nextRepoID, owner: owner, name: name, issues: map[int]*issue{}, created: s.now()}
	s.repos[key] = r
	s.reposByID[r.id] = r
	return r, nil
}

func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ---- fault injection ----

// Latency delays every response by d (0 turns it off). A request whose
// context ends first gets no answer.
func (s *Server) Latency(d time.Duration) { s.faults.SetLatency(d) }

// FailNext answers the next n requests with status and a GitHub error body,
// plus "Retry-After: <seconds>" when retryAfter > 0 (rounded up). A 403 with
// a retryAfter is GitHub's secondary rate limit; without, a plain 403.
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
// to max(1, perSecond), and answers the others like GitHub's secondary rate
// limit: 403 with Retry-After. perSecond <= 0 turns it off.
func (s *Server) RateLimit(perSecond float64) { s.faults.RateLimit(perSecond) }

// Quota sets the primary rate limit's remaining calls and reset time. When
// none remain, requests are answered 403 with X-RateLimit-Remaining: 0 until
// reset, after which Options.Quota calls are available again. It turns the
// limit on when Options.Quota was negative.
func (s *Server) Quota(remaining int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if remaining < 0 {
		remaining = 0
	}
	s.quotaLeft, s.quotaReset, s.unlimited = remaining, reset, false
}

// RateRemaining returns the primary rate limit's remaining calls.
func (s *Server) RateRemaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quotaLeft
}

// fault decides whether the request fails before it is served; a request
// the rate limit refuses gets GitHub's secondary rate limit, a 403.
func (s *Server) fault() (status int, retryAfter time.Duration, secondary bool) {
	f, _ := s.faults.Next()
	if f.Limited {
		return http.StatusForbidden, f.RetryAfter, true
	}
	return f.Status, f.RetryAfter, false
}

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

// reply is a response computed under s.mu and written after.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// ServeHTTP implements http.Handler: record, delay, inject faults, check
// credentials and the primary quota, route, then apply ETags; Disrupt
// comes first.
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
		writeReply(w, errReply(http.StatusBadRequest, "Problems parsing JSON", docRoot))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	inm, conditional := r.Header["If-None-Match"]

	idx := s.requests.Add(Request{
		Method:      r.Method,
		Path:        r.URL.Path,
		Query:       r.URL.Query(),
		Body:        string(body),
		IfNoneMatch: strings.Join(inm, ", "),
		Conditional: conditional,
		Auth:        authScheme(r),
		At:          s.now(),
	})

	if !fake.Delay(r.Context(), s.faults.Latency()) {
		return
	}

	s.mu.Lock()
	rep := s.serveLocked(r, body)
	s.requests.Update(idx, func(q *Request) {
		if q.Method == r.Method && q.Path == r.URL.Path {
			q.Status = rep.status
		}
	})
	s.mu.Unlock()
	writeReply(w, rep)
}

func (s *Server) serveLocked(r *http.Request, body []byte) reply {
	if status, wait, secondary := s.fault(); status != 0 {
		rep := faultReply(status, wait, secondary)
		if s.authorized(r) {
			s.rateHeaders(rep.header, false)
		}
		return rep
	}
	if r.Header.Get("Authorization") == "" {
		return errReply(http.StatusUnauthorized, "Requires authentication", docRoot)
	}
	if !s.authorized(r) {
		return errReply(http.StatusUnauthorized, "Bad credentials", docRoot)
	}
	now := s.now()
	if !now.Before(s.quotaReset) {
		s.quotaLeft, s.quotaReset = s.opts.Quota, now.Add(time.Hour)
	}
	if s.quotaLeft <= 0 {
		rep := errReply(http.StatusForbidden, "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api")
		s.rateHeaders(rep.header, false)
		return rep
	}

	rep := s.route(r, body)
	if r.URL.Path == "/rate_limit" {
		// GitHub does not count calls to /rate_limit.
		s.rateHeaders(rep.header, false)
		return rep
	}
	if r.Method == http.MethodGet && rep.status == http.StatusOK {
		sum := sha256.Sum256(rep.body)
		etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		rep.header.Set("ETag", etag)
		if etagMatch(r.Header.Values("If-None-Match"), etag) {
			// A 304 costs no rate limit.
			rep.status, rep.body = http.StatusNotModified, nil
			rep.header.Del("Content-Type")
			rep.header.Del("Link")
			s.rateHeaders(rep.header, false)
			return rep
		}
	}
	s.rateHeaders(rep.header, true)
	return rep
}

// rateHeaders sets X-RateLimit-*, spending one call when spend.
func (s *Server) rateHeaders(h http.Header, spend bool) {
	if spend && s.quotaLeft > 0 && !s.unlimited {
		s.quotaLeft--
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.Quota))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.quotaLeft))
	h.Set("X-RateLimit-Used", strconv.Itoa(max(0, s.opts.Quota-s.quotaLeft)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.quotaReset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

func faultReply(status int, wait time.Duration, secondary bool) reply {
	msg := http.StatusText(status)
	doc := docRoot
	switch {
	case status == http.StatusTooManyRequests || secondary || (status == http.StatusForbidden && wait > 0):
		msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
		doc = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	case status == http.StatusForbidden:
		msg = "Resource not accessible by personal access token"
	case status >= 500:
		msg = "Server Error"
	}
	rep := errReply(status, msg, doc)
	fake.SetRetryAfter(rep.header, wait)
	return rep
}

func etagMatch(values []string, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == want {
				return true
			}
		}
	}
	return false
}

func writeReply(w http.ResponseWriter, rep reply) {
	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	if rep.body != nil {
		h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	}
	w.WriteHeader(rep.status)
	if rep.body != nil {
		_, _ = w.Write(rep.body)
	}
}

func authScheme(r *http.Request) string {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		return "bearer"
	case "token":
		return "token"
	}
	return ""
}

func (s *Server) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.Token)) == 1
	}
	return false
}

// ---- routing ----

const docRoot = "https://docs.github.com/rest"

func (s *Server) route(r *http.Request, body []byte) reply {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var rp *repo
	var rest []string
	switch {
	case len(seg) >= 3 && seg[0] == "repos":
		rp = s.repos[strings.ToLower(seg[1]+"/"+seg[2])]
		rest = seg[3:]
	case len(seg) >= 2 && seg[0] == "repositories":
		id, err := strconv.ParseInt(seg[1], 10, 64)
		if err == nil {
			rp = s.reposByID[id]
		}
		rest = seg[2:]
	case len(seg) == 1 && seg[0] == "rate_limit" && r.Method == http.MethodGet:
		return s.rateLimitJSON()
	case len(seg) == 1 && seg[0] == "user" && r.Method == http.MethodGet: // repo.go
		return s.viewerJSON()
	default:
		return notFound()
	}
	if rp == nil {
		return notFound()
	}
	if len(rest) == 0 && r.Method == http.MethodGet { // repo.go
		return s.repoJSON(rp)
	}
	if rep, ok := s.routeChanges(r, rp, rest); ok { // changes.go
		return rep
	}
	if len(rest) == 0 || rest[0] != "issues" {
		return notFound()
	}
	rest = rest[1:]
	m := r.Method
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		return s.listIssues(r, rp)
	case len(rest) == 0 && m == http.MethodPost:
		return s.createIssue(r, rp, body)
	case len(rest) == 2 && rest[0] == "comments" && (m == http.MethodGet || m == http.MethodPatch):
		return s.comment(r, rp, rest[1], body)
	case len(rest) == 1 && (m == http.MethodGet || m == http.MethodPatch):
		is, rep, ok := s.lookup(r, rp, rest[0], "")
		if !ok {
			return rep
		}
		if m == http.MethodGet {
			return jsonReply(http.StatusOK, s.wireIssue(is, true))
		}
		return s.editIssue(is, body)
	case len(rest) == 2 && rest[1] == "comments" && (m == http.MethodGet || m == http.MethodPost):
		is, rep, ok := s.lookup(r, rp, rest[0], "/comments")
		if !ok {
			return rep
		}
		if m == http.MethodGet {
			return s.listComments(r, is)
		}
		return s.addComment(is, body)
	}
	return notFound()
}

// lookup finds issue number n of rp: 404 when unknown, 410 when deleted,
// 301 to the new location (plus suffix and the query) when transferred.
func (s *Server) lookup(r *http.Request, rp *repo, n, suffix string) (*issue, reply, bool) {
	num, err := strconv.Atoi(n)
	if err != nil || num <= 0 {
		return nil, notFound(), false
	}
	is := rp.issues[num]
	if is == nil {
		return nil, notFound(), false
	}
	if is.deleted {
		return nil, errReply(http.StatusGone, "This issue was deleted", "https://docs.github.com/rest/issues/issues#get-an-issue"), false
	}
	if is.movedTo != nil {
		to := is.movedTo
		for to.movedTo != nil {
			to = to.movedTo
		}
		loc := fmt.Sprintf("%srepositories/%d/issues/%d%s", s.apiBase, to.repo.id, to.number, suffix)
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		rep := jsonReply(http.StatusMovedPermanently, map[string]string{
			"message":           "Moved Permanently",
			"url":               loc,
			"documentation_url": "https://docs.github.com/rest/issues/issues#get-an-issue",
		})
		rep.header.Set("Location", loc)
		return nil, rep, false
	}
	return is, reply{}, true
}

func (s *Server) rateLimitJSON() reply {
	core := map[string]int64{
		"limit": int64(s.opts.Quota), "remaining": int64(s.quotaLeft),
		"used": int64(max(0, s.opts.Quota-s.quotaLeft)), "reset": s.quotaReset.Unix(),
	}
	return jsonReply(http.StatusOK, map[string]any{"resources": map[string]any{"core": core}, "rate": core})
}

// ---- helpers shared by handlers ----

func sortedCopy(v []string) []string {
	out := append([]string(nil), v...)
	sort.Strings(out)
	return out
}
