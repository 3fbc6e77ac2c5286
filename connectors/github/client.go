// Package github is coesync's GitHub connector: it mirrors COE action items
// as GitHub issues (create, read, update, list, find again after a crash,
// keep one status comment up to date) and reads GitHub's "issues" webhooks.
//
// It wraps github.com/google/go-github/v60 but no go-github type crosses its
// exported API: callers see coe types, *engine.Error classifications (from
// the shared httpx transport) and the connector's own errors.
//
// go-github v60 behaviours it works around:
//   - A 304 Not Modified is an error to go-github (*ErrorResponse); ListIssues
//     recognises it by the response status.
//   - net/http follows a 301 for GET (so GetIssue lands on a transferred
//     issue's new location by itself), but turns a PATCH or POST answered
//     301 into a GET, which would silently drop the change. The connector
//     stops such redirects and repeats the request at the new location.
//   - WithAuthToken adds the token below http.Client, on every hop of a
//     redirect: redirects to another origin are refused so that the token
//     never leaves for another host.
//   - After a response with X-RateLimit-Remaining: 0, go-github refuses
//     further calls until the reset without asking GitHub, with its own
//     *RateLimitError; the connector turns it into a RateLimited
//     *engine.Error.
package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/coesync/coesync/connectors/internal/httpx"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

// DefaultBaseURL is GitHub.com's REST API root.
const DefaultBaseURL = "https://api.github.com/"

// DefaultTimeout bounds one HTTP call when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

const (
	// perPage is the page size asked for (GitHub's maximum).
	perPage = 100
	// maxPages stops a listing whose pages never end.
	maxPages = 1000
	// maxMoves bounds how many 301s a PATCH or POST follows.
	maxMoves = 3
	// maxRedirects bounds the redirects net/http follows for a GET.
	maxRedirects = 5
	// maxErrorBody is how much of a failed response is read to explain it.
	maxErrorBody = 64 << 10
)

// Options configures a Client.
type Options struct {
	// BaseURL is the REST API root, used as is: DefaultBaseURL when empty,
	// "https://ghe.example.com/api/v3/" for GitHub Enterprise Server, or a
	// fake's URL. It must not carry credentials.
	BaseURL string
	// Token is a personal access token or an installation token, sent as
	// "Authorization: Bearer <Token>".
	Token string
	// Timeout bounds each HTTP call, body included; zero means DefaultTimeout.
	Timeout time.Duration
	// Observer is told about every call; may be nil.
	Observer httpx.Observer
	// Transport is the underlying RoundTripper; nil means http.DefaultTransport.
	Transport http.RoundTripper
}

// String describes o without its token, so that logging Options is safe.
func (o Options) String() string {
	tok := ""
	if o.Token != "" {
		tok = "[REDACTED]"
	}
	return fmt.Sprintf("github.Options{BaseURL: %q, Token: %q, Timeout: %s}", o.BaseURL, tok, o.Timeout)
}

// GoString is String, so that %#v does not print the token either.
func (o Options) GoString() string { return o.String() }

// LogValue implements slog.LogValuer without the token.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", o.BaseURL),
		slog.Bool("token_set", o.Token != ""),
		slog.Duration("timeout", o.Timeout),
	)
}

// Client talks to one GitHub (or GitHub Enterprise Server) API. It is safe
// for concurrent use.
type Client struct {
	api    *gh.Client
	origin *url.URL
	redact *strings.Replacer
}

var _ engine.IssueTracker = (*Client)(nil)

// New returns a Client for o. It does not call GitHub.
func New(o Options) (*Client, error) {
	if o.Token == "" {
		return nil, errors.New("github: Token is required")
	}
	if strings.ContainsFunc(o.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// It would break or smuggle headers; do not quote it.
		return nil, errors.New("github: Token must not contain white space or control characters")
	}
	raw := strings.TrimSpace(o.BaseURL)
	if raw == "" {
		raw = DefaultBaseURL
	}
	base, err := url.Parse(raw)
	// The parse error would quote the URL, which may hold credentials.
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("github: BaseURL must be an absolute http(s) URL")
	}
	if base.User != nil {
		return nil, errors.New("github: BaseURL must not carry credentials; set Token")
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New("github: BaseURL must not have a query or fragment")
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	base.RawPath = ""

	red := httpx.NewRedactor(o.Token)
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	origin := &url.URL{Scheme: base.Scheme, Host: base.Host}
	hc := &http.Client{
		// Every status below 400 (304, 301) reaches go-github as a
		// response; the connector handles those itself.
		Transport: &httpx.Transport{
			Base:     httpx.ErrorBodies{Base: o.Transport, Message: githubMessage, Redact: red, Limit: maxErrorBody},
			Service:  "github",
			Observer: o.Observer,
		},
		Timeout:       timeout,
		CheckRedirect: checkRedirect(origin),
	}
	api := gh.NewClient(hc).WithAuthToken(o.Token)
	api.BaseURL = base
	api.UserAgent = "coesync"
	return &Client{api: api, origin: origin, redact: red}, nil
}

// checkRedirect lets net/http follow redirects of GET and HEAD requests, and
// 307/308 of any method, within origin only. A 301/302/303 of another method
// is handed back (net/http would turn it into a GET and drop the body), and
// a redirect elsewhere is refused: the token is added below http.Client and
// would travel with it.
func checkRedirect(origin *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return &engine.Error{Kind: engine.Permanent, Service: "github", Msg: fmt.Sprintf("stopped after %d redirects", maxRedirects)}
		}
		if !sameOrigin(req.URL, origin) {
			status := 0
			if req.Response != nil {
				status = req.Response.StatusCode
			}
			return &engine.Error{Kind: engine.Permanent, Service: "github", Status: status, Msg: "refused redirect to another host " + req.URL.Host}
		}
		if m := via[0].Method; m != http.MethodGet && m != http.MethodHead {
			if req.Response == nil || (req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect) {
				return http.ErrUseLastResponse
			}
		}
		return nil
	}
}

func sameOrigin(u, origin *url.URL) bool {
	return strings.EqualFold(u.Scheme, origin.Scheme) && strings.EqualFold(u.Host, origin.Host)
}

// ---- engine.IssueTracker ----

// CreateIssue creates an issue in repo ("owner/name").
func (c *Client) CreateIssue(ctx context.Context, repo string, spec coe.GitHubIssueSpec) (coe.GitHubIssue, error) {
	path, err := repoPath(repo)
	if err != nil {
		return coe.GitHubIssue{}, fmt.Errorf("github: create issue in %s: %w", repo, err)
	}
	if strings.TrimSpace(spec.Title) == "" {
		return coe.GitHubIssue{}, fmt.Errorf("github: create issue in %s: %w", repo, engine.Permanently(errors.New("empty title")))
	}
	req := &gh.IssueRequest{Title: gh.String(spec.Title), Body: gh.String(spec.Body)}
	if len(spec.Labels) > 0 {
		req.Labels = &spec.Labels
	}
	if len(spec.Assignees) > 0 {
		req.Assignees = &spec.Assignees
	}
	is := new(gh.Issue)
	if _, err := c.send(ctx, http.MethodPost, path+"/issues", req, is); err != nil {
		return coe.GitHubIssue{}, fmt.Errorf("github: create issue in %s: %w", repo, err)
	}
	if is.GetNumber() <= 0 {
		return coe.GitHubIssue{}, fmt.Errorf("github: create issue in %s: response has no issue number", repo)
	}
	return translate(is, repo), nil
}

// GetIssue fetches issue number of repo. net/http follows the 301 of a
// transferred issue; the result names the new repository and number.
func (c *Client) GetIssue(ctx context.Context, repo string, number int) (coe.GitHubIssue, error) {
	owner, name, err := splitRepo(repo)
	if err == nil {
		err = checkNumber(number)
	}
	if err != nil {
		return coe.GitHubIssue{}, fmt.Errorf("github: get issue %s: %w", coe.GitHubRef(repo, number), err)
	}
	is, _, err := c.api.Issues.Get(ctx, owner, name, number)
	if err != nil {
		return coe.GitHubIssue{}, fmt.Errorf("github: get issue %s: %w", coe.GitHubRef(repo, number), c.cause(err))
	}
	return translate(is, repo), nil
}

// UpdateIssue applies p to issue number of repo. A transferred issue is
// updated at its new location, which the result names.
func (c *Client) UpdateIssue(ctx context.Context, repo string, number int, p coe.GitHubIssuePatch) (coe.GitHubIssue, error) {
	ref := coe.GitHubRef(repo, number)
	path, err := repoPath(repo)
	if err == nil {
		err = checkNumber(number)
	}
	if err == nil {
		err = checkPatch(p)
	}
	if err != nil {
		return coe.GitHubIssue{}, fmt.Errorf("github: update issue %s: %w", ref, err)
	}
	if p.IsZero() {
		return c.GetIssue(ctx, repo, number)
	}
	req := &gh.IssueRequest{
		Title:       p.Title,
		Body:        p.Body,
		State:       p.State,
		StateReason: p.StateReason,
		Labels:      nonNilSlice(p.Labels),
		Assignees:   nonNilSlice(p.Assignees),
	}
	is := new(gh.Issue)
	if _, err := c.send(ctx, http.MethodPatch, path+"/issues/"+strconv.Itoa(number), req, is); err != nil {
		return coe.GitHubIssue{}, fmt.Errorf("github: update issue %s: %w", ref, err)
	}
	return translate(is, repo), nil
}

// ListIssues lists the issues of repo in every state carrying label,
// updated at or after since, most recently updated first, across all pages.
// Sorting by update time puts any change on the first page, whose ETag then
// changes: a 304 to the conditional first page means nothing listed changed
// (only an issue leaving the set from a later page can go unnoticed).
func (c *Client) ListIssues(ctx context.Context, repo, label string, since time.Time, etag string) ([]coe.GitHubIssue, string, bool, error) {
	path, err := repoPath(repo)
	if err == nil && strings.Contains(label, ",") {
		err = engine.Permanently(fmt.Errorf("label %q contains a comma, which GitHub reads as a list", label))
	}
	if err != nil {
		return nil, "", false, fmt.Errorf("github: list issues in %s: %w", repo, err)
	}
	q := url.Values{}
	q.Set("state", "all")
	q.Set("sort", "updated")
	q.Set("direction", "desc")
	q.Set("per_page", strconv.Itoa(perPage))
	if label != "" {
		q.Set("labels", label)
	}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339))
	}

	var out []coe.GitHubIssue
	seen := map[int64]bool{}
	newETag := ""
	for page := 1; ; {
		if page > maxPages {
			return nil, "", false, fmt.Errorf("github: list issues in %s: more than %d pages", repo, maxPages)
		}
		q.Set("page", strconv.Itoa(page))
		var opts []gh.RequestOption
		if page == 1 && etag != "" {
			opts = append(opts, func(r *http.Request) { r.Header.Set("If-None-Match", etag) })
		}
		req, err := c.api.NewRequest(http.MethodGet, path+"/issues?"+q.Encode(), nil, opts...)
		if err != nil {
			return nil, "", false, fmt.Errorf("github: list issues in %s: %w", repo, c.cause(err))
		}
		var batch []*gh.Issue
		resp, err := c.api.Do(ctx, req, &batch)
		if page == 1 && resp != nil && resp.StatusCode == http.StatusNotModified {
			// go-github reports a 304 as an *ErrorResponse.
			return nil, etag, true, nil
		}
		if err != nil {
			return nil, "", false, fmt.Errorf("github: list issues in %s: %w", repo, c.cause(err))
		}
		if page == 1 {
			newETag = resp.Header.Get("ETag")
		}
		for _, is := range batch {
			// The issues endpoint lists pull requests too. Pages are not a
			// snapshot: an issue may move across a page boundary.
			if is == nil || is.PullRequestLinks != nil || seen[is.GetID()] {
				continue
			}
			seen[is.GetID()] = true
			out = append(out, translate(is, repo))
		}
		if resp.NextPage <= page {
			return out, newETag, false, nil
		}
		page = resp.NextPage
	}
}

// FindIssueByMarker returns the issue of repo carrying label whose body
// contains marker; the lowest number when several do.
func (c *Client) FindIssueByMarker(ctx context.Context, repo, label, marker string) (coe.GitHubIssue, bool, error) {
	if strings.TrimSpace(marker) == "" {
		return coe.GitHubIssue{}, false, fmt.Errorf("github: find issue by marker in %s: %w", repo, engine.Permanently(errors.New("empty marker")))
	}
	issues, _, _, err := c.ListIssues(ctx, repo, label, time.Time{}, "")
	if err != nil {
		return coe.GitHubIssue{}, false, fmt.Errorf("github: find issue by marker in %s: %w", repo, err)
	}
	var best coe.GitHubIssue
	found := false
	for _, is := range issues {
		if strings.Contains(is.Body, marker) && (!found || is.Number < best.Number) {
			best, found = is, true
		}
	}
	return best, found, nil
}

// UpsertComment edits the first comment of the issue whose body contains
// marker, or adds one. body gets marker appended when it lacks it. An
// unchanged comment is left alone.
func (c *Client) UpsertComment(ctx context.Context, repo string, number int, marker, body string) error {
	ref := coe.GitHubRef(repo, number)
	path, err := repoPath(repo)
	if err == nil {
		err = checkNumber(number)
	}
	if err == nil && strings.TrimSpace(marker) == "" {
		err = engine.Permanently(errors.New("empty marker"))
	}
	if err != nil {
		return fmt.Errorf("github: upsert comment on %s: %w", ref, err)
	}
	if !strings.Contains(body, marker) {
		body = strings.TrimRight(body, "\n") + "\n\n" + marker
	}
	issuePath := path + "/issues/" + strconv.Itoa(number)

	var found *gh.IssueComment
	for page := 1; found == nil; {
		if page > maxPages {
			return fmt.Errorf("github: upsert comment on %s: more than %d pages of comments", ref, maxPages)
		}
		req, err := c.api.NewRequest(http.MethodGet, fmt.Sprintf("%s/comments?per_page=%d&page=%d", issuePath, perPage, page), nil)
		if err != nil {
			return fmt.Errorf("github: upsert comment on %s: %w", ref, c.cause(err))
		}
		var batch []*gh.IssueComment
		resp, err := c.api.Do(ctx, req, &batch)
		if err != nil {
			return fmt.Errorf("github: upsert comment on %s: list comments: %w", ref, c.cause(err))
		}
		for _, cm := range batch {
			if cm != nil && strings.Contains(cm.GetBody(), marker) {
				found = cm
				break
			}
		}
		if resp.NextPage <= page {
			break
		}
		page = resp.NextPage
	}

	if found == nil {
		if _, err := c.send(ctx, http.MethodPost, issuePath+"/comments", &gh.IssueComment{Body: gh.String(body)}, nil); err != nil {
			return fmt.Errorf("github: upsert comment on %s: create: %w", ref, err)
		}
		return nil
	}
	if found.GetBody() == body {
		return nil
	}
	// A comment's own URL stays valid when its issue is transferred, unlike
	// a path built from the old repository.
	target := found.GetURL()
	if u, err := url.Parse(target); target == "" || err != nil || !sameOrigin(u, c.origin) {
		target = fmt.Sprintf("%s/issues/comments/%d", path, found.GetID())
	}
	if _, err := c.send(ctx, http.MethodPatch, target, &gh.IssueComment{Body: gh.String(body)}, nil); err != nil {
		return fmt.Errorf("github: upsert comment on %s: edit comment %d: %w", ref, found.GetID(), err)
	}
	return nil
}

// ---- plumbing ----

// send makes one request through go-github. When a PATCH or POST is answered
// 301/302/303 (a transferred issue, a renamed repository), which
// checkRedirect handed back, it repeats the request verbatim at Location.
func (c *Client) send(ctx context.Context, method, urlStr string, body, v any) (*gh.Response, error) {
	for hop := 0; ; hop++ {
		req, err := c.api.NewRequest(method, urlStr, body)
		if err != nil {
			return nil, c.cause(err)
		}
		resp, err := c.api.Do(ctx, req, v)
		if resp == nil || !isMove(resp.StatusCode) {
			if err != nil {
				return resp, c.cause(err)
			}
			return resp, nil
		}
		loc, lerr := resp.Location()
		switch {
		case lerr != nil:
			return resp, &engine.Error{Kind: engine.Permanent, Service: "github", Status: resp.StatusCode, Msg: method + " " + req.URL.Path + ": moved without a usable Location"}
		case !sameOrigin(loc, c.origin):
			return resp, &engine.Error{Kind: engine.Permanent, Service: "github", Status: resp.StatusCode, Msg: method + " " + req.URL.Path + ": refused redirect to another host " + loc.Host}
		case hop >= maxMoves:
			return resp, &engine.Error{Kind: engine.Permanent, Service: "github", Status: resp.StatusCode, Msg: fmt.Sprintf("%s %s: moved more than %d times", method, req.URL.Path, maxMoves)}
		}
		urlStr = loc.String()
	}
}

func isMove(status int) bool {
	return status == http.StatusMovedPermanently || status == http.StatusFound || status == http.StatusSeeOther
}

// cause returns what to wrap for a failed go-github call: the *engine.Error
// the transport produced when there is one (without net/http's `Get "<url>"`
// wrapper), a RateLimited *engine.Error for go-github's own rate-limit
// refusals, a classified *engine.Error for a status go-github rejected that
// the transport let through, with any credential scrubbed from the text.
func (c *Client) cause(err error) error {
	if err == nil {
		return nil
	}
	var (
		e     *engine.Error
		rl    *gh.RateLimitError
		abuse *gh.AbuseRateLimitError
		er    *gh.ErrorResponse
	)
	switch {
	case errors.As(err, &e):
		err = e
	case errors.As(err, &rl):
		// go-github answers without calling GitHub once a response said no
		// calls remain until the reset.
		wait := time.Until(rl.Rate.Reset.Time)
		if wait <= 0 {
			wait = time.Second
		}
		err = &engine.Error{Kind: engine.RateLimited, Service: "github", Status: http.StatusForbidden, RetryAfter: wait,
			Msg: "primary rate limit exhausted until " + rl.Rate.Reset.Time.UTC().Format(time.RFC3339)}
	case errors.As(err, &abuse):
		wait := time.Minute
		if abuse.RetryAfter != nil && *abuse.RetryAfter > 0 {
			wait = *abuse.RetryAfter
		}
		err = &engine.Error{Kind: engine.RateLimited, Service: "github", Status: http.StatusForbidden, RetryAfter: wait, Msg: "secondary rate limit"}
	case errors.As(err, &er) && er.Response != nil:
		kind := engine.Permanent
		if er.Response.StatusCode >= 500 {
			kind = engine.Retryable
		}
		msg := er.Message
		if er.Response.Request != nil {
			msg = er.Response.Request.Method + " " + er.Response.Request.URL.Path + ": " + msg
		}
		err = &engine.Error{Kind: kind, Service: "github", Status: er.Response.StatusCode, Msg: strings.TrimRight(msg, ": ")}
	}
	return httpx.Redact(err, c.redact)
}

// ---- translation ----

func translate(is *gh.Issue, repo string) coe.GitHubIssue {
	out := coe.GitHubIssue{
		Repo:        repoOf(is, repo),
		Number:      is.GetNumber(),
		ID:          is.GetID(),
		URL:         is.GetHTMLURL(),
		Title:       is.GetTitle(),
		Body:        is.GetBody(),
		State:       is.GetState(),
		StateReason: is.GetStateReason(),
		CreatedAt:   is.GetCreatedAt().Time.UTC(),
		UpdatedAt:   is.GetUpdatedAt().Time.UTC(),
	}
	if is.ClosedAt != nil && !is.ClosedAt.IsZero() {
		out.ClosedAt = is.ClosedAt.Time.UTC()
	}
	for _, a := range is.Assignees {
		if a.GetLogin() != "" {
			out.Assignees = append(out.Assignees, a.GetLogin())
		}
	}
	if len(out.Assignees) == 0 && is.Assignee.GetLogin() != "" {
		out.Assignees = []string{is.Assignee.GetLogin()}
	}
	for _, l := range is.Labels {
		if l.GetName() != "" {
			out.Labels = append(out.Labels, l.GetName())
		}
	}
	return out
}

// repoOf reads "owner/name" from repository_url (…/repos/{owner}/{name}),
// else from html_url (…/{owner}/{name}/issues/{number}), else returns
// fallback. After a transfer these name the new repository.
func repoOf(is *gh.Issue, fallback string) string {
	if u, err := url.Parse(is.GetRepositoryURL()); err == nil {
		p := strings.TrimSuffix(u.Path, "/")
		if i := strings.LastIndex(p, "/repos/"); i >= 0 {
			if owner, name, ok := strings.Cut(p[i+len("/repos/"):], "/"); ok && validSegment(owner) && validSegment(name) {
				return owner + "/" + name
			}
		}
	}
	if u, err := url.Parse(is.GetHTMLURL()); err == nil {
		seg := strings.Split(strings.Trim(u.Path, "/"), "/")
		if n := len(seg); n >= 4 && (seg[n-2] == "issues" || seg[n-2] == "pull") && validSegment(seg[n-4]) && validSegment(seg[n-3]) {
			return seg[n-4] + "/" + seg[n-3]
		}
	}
	return fallback
}

// ---- validation ----

var segmentRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func validSegment(s string) bool { return segmentRE.MatchString(s) && s != "." && s != ".." }

func splitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || !validSegment(owner) || !validSegment(name) {
		return "", "", engine.Permanently(fmt.Errorf("invalid repository %q, want owner/name", repo))
	}
	return owner, name, nil
}

func repoPath(repo string) (string, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return "", err
	}
	return "repos/" + owner + "/" + name, nil
}

func checkNumber(n int) error {
	if n <= 0 {
		return engine.Permanently(fmt.Errorf("invalid issue number %d", n))
	}
	return nil
}

func checkPatch(p coe.GitHubIssuePatch) error {
	if p.Title != nil && strings.TrimSpace(*p.Title) == "" {
		return engine.Permanently(errors.New("empty title"))
	}
	if p.State != nil && *p.State != coe.GitHubStateOpen && *p.State != coe.GitHubStateClosed {
		return engine.Permanently(fmt.Errorf("invalid state %q", *p.State))
	}
	if p.StateReason != nil {
		switch *p.StateReason {
		case coe.GitHubReasonCompleted, coe.GitHubReasonNotPlanned, coe.GitHubReasonDuplicate, coe.GitHubReasonReopened:
		default:
			return engine.Permanently(fmt.Errorf("invalid state reason %q", *p.StateReason))
		}
	}
	return nil
}

// nonNilSlice makes a pointer to a nil slice send [] (clear) rather than
// null.
func nonNilSlice(p *[]string) *[]string {
	if p == nil {
		return nil
	}
	if *p == nil {
		empty := []string{}
		return &empty
	}
	return p
}
