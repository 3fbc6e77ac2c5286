// Package jira is coesync's Jira connector: it creates COE tickets and their
// action-item sub-tasks, finds them again by label, links them to other
// systems, moves them through the workflow and comments on them, through
// Jira's REST API v2 (wiki-markup strings).
//
// It wraps github.com/andygrunwald/go-jira v1.17.0 but no go-jira type crosses
// its exported API: callers see coe types, *engine.Error classifications (from
// the shared httpx transport) and the connector's own errors.
//
// Search goes through /rest/api/2/search/jql: Jira Cloud removed
// /rest/api/2/search (410 Gone). The new endpoint is eventually consistent, so
// an issue created seconds ago may be missing from FindByLabel. Jira Data
// Center and Server have no /search/jql (404) and still serve the classic
// /rest/api/2/search, with startAt/maxResults/total paging: after a 404 from
// /search/jql a Client searches there, and remembers it (see searchVia). It
// never calls /rest/api/2/search before /search/jql has answered 404.
package jira

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/coesync/coesync/connectors/internal/httpx"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

// DefaultTimeout bounds one HTTP call when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultSubtaskType is the issue type CreateSubtask uses when the spec names none.
const DefaultSubtaskType = "Sub-task"

const (
	// pageSize is the page size searches ask for; Jira may return fewer.
	pageSize = 100
	// maxPages stops a search whose pages never end (a server handing out
	// the same or endless tokens).
	maxPages = 1000
	// pathSearchJQL is Jira Cloud's search; pathSearch is the classic one,
	// gone from Cloud (410) but the only one on Data Center and Server.
	pathSearchJQL = "rest/api/2/search/jql"
	pathSearch    = "rest/api/2/search"
	// maxErrorBody is how much of a failed response is read to explain it.
	maxErrorBody = 64 << 10
)

// Options configures a Client.
type Options struct {
	// BaseURL is the site, e.g. "https://example.atlassian.net" (a Data
	// Center context path such as "https://jira.example.com/jira" works too).
	// It must not carry credentials.
	BaseURL string
	// User is the Atlassian account email for Jira Cloud basic auth with an
	// API token. Empty means Token is a Data Center personal access token,
	// sent as "Authorization: Bearer <Token>".
	User string
	// Token is the API token (with User) or the personal access token.
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
	return fmt.Sprintf("jira.Options{BaseURL: %q, User: %q, Token: %q, Timeout: %s}", o.BaseURL, o.User, tok, o.Timeout)
}

// GoString is String, so that %#v does not print the token either.
func (o Options) GoString() string { return o.String() }

// LogValue implements slog.LogValuer without the token.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", o.BaseURL),
		slog.String("user", o.User),
		slog.Bool("token_set", o.Token != ""),
		slog.Duration("timeout", o.Timeout),
	)
}

// Client talks to one Jira site. It is safe for concurrent use.
type Client struct {
	api    *gojira.Client
	base   string // BaseURL without the trailing slash
	redact *strings.Replacer
	zone   zoneCache // the profile time zone JQL dates are read in (items.go)
	// classic is set once /search/jql has answered 404 (Jira Data Center or
	// Server): searches then go to the classic /search. See searchVia.
	classic atomic.Bool
}

var _ engine.TicketTracker = (*Client)(nil)

// New returns a Client for o. It does not call Jira.
func New(o Options) (*Client, error) {
	if strings.TrimSpace(o.BaseURL) == "" {
		return nil, errors.New("jira: BaseURL is required")
	}
	if o.Token == "" {
		return nil, errors.New("jira: Token is required")
	}
	base := strings.TrimRight(strings.TrimSpace(o.BaseURL), "/")
	u, err := url.Parse(base)
	// The parse error would quote the URL, which may hold credentials.
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("jira: BaseURL must be an absolute http(s) URL")
	}
	if u.User != nil {
		return nil, errors.New("jira: BaseURL must not carry credentials; set User and Token")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("jira: BaseURL must not have a query or fragment")
	}

	secrets := []string{o.Token}
	auth := "Bearer " + o.Token
	if o.User != "" {
		pair := o.User + ":" + o.Token
		enc := base64.StdEncoding.EncodeToString([]byte(pair))
		secrets = append(secrets, pair, enc)
		auth = "Basic " + enc
	}
	red := httpx.NewRedactor(secrets...)

	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	classify := &httpx.Transport{
		Base:     httpx.ErrorBodies{Base: o.Transport, Message: atlassianMessage, Redact: red, Limit: maxErrorBody},
		Service:  "jira",
		Observer: o.Observer,
	}
	hc := &http.Client{
		Transport: &authTransport{base: classify, origin: origin(u), header: auth},
		Timeout:   timeout,
	}
	api, err := gojira.NewClient(hc, base+"/")
	if err != nil {
		return nil, errors.New("jira: invalid BaseURL")
	}
	return &Client{api: api, base: base, redact: red}, nil
}

// FindByLabel returns every issue carrying label, oldest first, following
// the search's pages to the last.
func (c *Client) FindByLabel(ctx context.Context, label string) ([]coe.TicketRef, error) {
	if label == "" {
		return nil, engine.Permanently(errors.New("jira: find issues by label: empty label"))
	}
	jql := "labels = " + QuoteJQL(label) + " ORDER BY created ASC"
	var refs []coe.TicketRef
	err := c.searchVia(
		func() (err error) { refs, err = c.findJQL(ctx, jql); return err },
		func() (err error) { refs, err = c.findClassic(ctx, jql); return err },
	)
	if err != nil {
		return nil, fmt.Errorf("jira: find issues labelled %q: %w", label, err)
	}
	return refs, nil
}

// findFields are the fields FindByLabel reads.
var findFields = []string{"key", "summary"}

// findJQL is FindByLabel through /search/jql, following nextPageToken.
func (c *Client) findJQL(ctx context.Context, jql string) ([]coe.TicketRef, error) {
	var refs []coe.TicketRef
	seen := map[string]bool{}
	token := ""
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("more than %d pages", maxPages)
		}
		issues, resp, err := c.api.Issue.SearchV2JQLWithContext(ctx, jql, &gojira.SearchOptionsV2{
			NextPageToken: token,
			MaxResults:    pageSize,
			Fields:        findFields,
		})
		if err != nil {
			return nil, searchJQLFailed(page, c.cause(err))
		}
		refs = c.addRefs(refs, seen, issues)
		if resp == nil || resp.IsLast || resp.NextPageToken == "" {
			return refs, nil
		}
		if resp.NextPageToken == token {
			return nil, errors.New("search/jql repeated its page token")
		}
		token = resp.NextPageToken
	}
}

// findClassic is FindByLabel through the classic /search, following startAt.
func (c *Client) findClassic(ctx context.Context, jql string) ([]coe.TicketRef, error) {
	var refs []coe.TicketRef
	seen := map[string]bool{}
	start := 0
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("more than %d pages", maxPages)
		}
		issues, resp, err := c.api.Issue.SearchWithContext(ctx, jql, &gojira.SearchOptions{
			StartAt:    start,
			MaxResults: pageSize,
			Fields:     findFields,
		})
		if err != nil {
			return nil, c.cause(err)
		}
		refs = c.addRefs(refs, seen, issues)
		if resp == nil {
			return refs, nil
		}
		next, more, err := nextStart(start, resp.StartAt, len(issues), resp.Total)
		if !more || err != nil {
			return refs, err
		}
		start = next
	}
}

// addRefs appends the refs of issues not seen before: pages are not a
// snapshot, and an issue may move across a page boundary between two calls.
func (c *Client) addRefs(refs []coe.TicketRef, seen map[string]bool, issues []gojira.Issue) []coe.TicketRef {
	for _, is := range issues {
		if is.Key == "" || seen[is.Key] {
			continue
		}
		seen[is.Key] = true
		refs = append(refs, c.ref(is.ID, is.Key))
	}
	return refs
}

// nextStart reads a classic /search page that asked for startAt start and
// got n issues of total, the page saying it starts at at: where the next
// page starts, and whether there is one. Paging by offset is not a
// snapshot either: an issue deleted meanwhile shifts the later ones back
// (one may be skipped), one added before the offset shifts them on (one
// is seen twice, and dropped as a duplicate).
func nextStart(start, at, n, total int) (next int, more bool, err error) {
	if n == 0 {
		return 0, false, nil
	}
	if at != start {
		return 0, false, fmt.Errorf("search answered startAt %d when asked for %d", at, start)
	}
	next = start + n
	return next, next < total, nil
}

// searchVia runs a search through /search/jql (viaJQL) or, on a site that
// has none, through the classic /search (viaClassic), each running the whole
// search, all pages.
//
// Jira Cloud removed /search (410 Gone) and Jira Data Center and Server never
// had /search/jql (404). The first search tries /search/jql; if its first
// page is a 404, it runs again through /search and the client remembers to
// go there directly from then on. Only that 404 switches: no other answer
// sends a Cloud client to /search. Should /search answer 410 all the same
// (a Cloud site whose /search/jql failed with a stray 404), the client goes
// back to /search/jql and runs the search there once more.
func (c *Client) searchVia(viaJQL, viaClassic func() error) error {
	for try := 0; ; try++ {
		if !c.classic.Load() {
			err := viaJQL()
			var missing *noSearchJQL
			if try > 0 || !errors.As(err, &missing) {
				return err
			}
			c.classic.Store(true)
		}
		err := viaClassic()
		if try > 0 || engine.StatusOf(err) != http.StatusGone {
			return err
		}
		c.classic.Store(false)
	}
}

// noSearchJQL is the 404 of a site that has no /search/jql: Jira Data Center
// or Server. It reads as the error it wraps.
type noSearchJQL struct{ err error }

func (e *noSearchJQL) Error() string { return e.err.Error() }
func (e *noSearchJQL) Unwrap() error { return e.err }

// searchJQLFailed returns err, from page page of a /search/jql search, marked
// as the endpoint missing when it is a 404 on the first page (an answer
// further on shows the endpoint exists).
func searchJQLFailed(page int, err error) error {
	if page == 0 && engine.StatusOf(err) == http.StatusNotFound {
		return &noSearchJQL{err: err}
	}
	return err
}

// CreateTicket creates the COE issue described by spec.
func (c *Client) CreateTicket(ctx context.Context, spec coe.TicketSpec) (coe.TicketRef, error) {
	ref, err := c.create(ctx, spec, "")
	if err != nil {
		return coe.TicketRef{}, fmt.Errorf("jira: create COE in %s: %w", spec.Project, err)
	}
	return ref, nil
}

// CreateSubtask creates a sub-task of parentKey. spec.IssueType defaults to
// DefaultSubtaskType and spec.Project to the parent's project.
func (c *Client) CreateSubtask(ctx context.Context, parentKey string, spec coe.TicketSpec) (coe.TicketRef, error) {
	if err := checkKey(parentKey); err != nil {
		return coe.TicketRef{}, fmt.Errorf("jira: create sub-task: %w", err)
	}
	if spec.IssueType == "" {
		spec.IssueType = DefaultSubtaskType
	}
	if spec.Project == "" {
		if i := strings.LastIndexByte(parentKey, '-'); i > 0 {
			spec.Project = parentKey[:i]
		}
	}
	ref, err := c.create(ctx, spec, parentKey)
	if err != nil {
		return coe.TicketRef{}, fmt.Errorf("jira: create sub-task of %s: %w", parentKey, err)
	}
	return ref, nil
}

func (c *Client) create(ctx context.Context, spec coe.TicketSpec, parent string) (coe.TicketRef, error) {
	// CreateWithContext reads the body itself and closes it.
	is, _, err := c.api.Issue.CreateWithContext(ctx, &gojira.Issue{Fields: issueFields(spec, parent)})
	if err != nil {
		return coe.TicketRef{}, c.cause(err)
	}
	if is == nil || is.Key == "" {
		return coe.TicketRef{}, errors.New("response has no issue key")
	}
	return c.ref(is.ID, is.Key), nil
}

// issueFields are the create fields of spec, a sub-task of parent when
// parent is not empty.
func issueFields(spec coe.TicketSpec, parent string) *gojira.IssueFields {
	f := &gojira.IssueFields{
		Project:     gojira.Project{Key: spec.Project},
		Type:        gojira.IssueType{Name: spec.IssueType},
		Summary:     spec.Summary,
		Description: spec.Description,
		Labels:      spec.Labels,
	}
	for _, name := range spec.Components {
		f.Components = append(f.Components, &gojira.Component{Name: name})
	}
	if spec.Priority != "" {
		f.Priority = &gojira.Priority{Name: spec.Priority}
	}
	if parent != "" {
		f.Parent = &gojira.Parent{Key: parent}
	}
	return f
}

// BrowseURL is the browse URL of issue key, as the items this client
// reads carry it.
func (c *Client) BrowseURL(key string) string { return c.ref("", key).URL }

// EnsureRemoteLink adds the remote link, or updates the one with the same
// GlobalID (Jira upserts on globalId), so that calling it again is harmless.
func (c *Client) EnsureRemoteLink(ctx context.Context, issueKey string, link coe.RemoteLink) error {
	if err := checkKey(issueKey); err != nil {
		return fmt.Errorf("jira: link %s: %w", issueKey, err)
	}
	if link.GlobalID == "" {
		// Without a globalId every retry would add another link.
		return fmt.Errorf("jira: link %s: %w", issueKey, engine.Permanently(errors.New("remote link has no GlobalID")))
	}
	rl := &gojira.RemoteLink{
		GlobalID: link.GlobalID,
		Object: &gojira.RemoteLinkObject{
			URL:     link.URL,
			Title:   link.Title,
			Summary: link.Summary,
		},
	}
	if _, _, err := c.api.Issue.AddRemoteLinkWithContext(ctx, issueKey, rl); err != nil {
		return fmt.Errorf("jira: link %s to %s: %w", issueKey, link.GlobalID, c.cause(err))
	}
	return nil
}

// ErrNoTransition is returned, wrapped in an *engine.PermanentError, by
// Transition when none of the wanted transitions is available from the
// issue's current status. Find it with errors.As.
type ErrNoTransition struct {
	Key       string
	Wanted    []string
	Available []string // names Jira offered, in its order
}

func (e *ErrNoTransition) Error() string {
	return fmt.Sprintf("jira: no transition of %s matches %s; available: %s",
		e.Key, quoteList(e.Wanted), quoteList(e.Available))
}

// Transition moves the issue through the first transition whose name matches
// one of names (tried in order, case-insensitively) and returns the name of
// the transition as Jira spells it.
func (c *Client) Transition(ctx context.Context, key string, names []string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("jira: transition %s: %w", key, err)
	}
	if len(names) == 0 {
		return "", fmt.Errorf("jira: transition %s: %w", key, engine.Permanently(errors.New("no transition names given")))
	}
	ts, _, err := c.api.Issue.GetTransitionsWithContext(ctx, key)
	if err != nil {
		return "", fmt.Errorf("jira: transition %s: %w", key, c.cause(err))
	}
	var pick *gojira.Transition
	for _, want := range names {
		want = strings.TrimSpace(want)
		for i := range ts {
			if strings.EqualFold(strings.TrimSpace(ts[i].Name), want) {
				pick = &ts[i]
				break
			}
		}
		if pick != nil {
			break
		}
	}
	if pick == nil {
		avail := make([]string, len(ts))
		for i, t := range ts {
			avail[i] = t.Name
		}
		return "", engine.Permanently(&ErrNoTransition{Key: key, Wanted: append([]string(nil), names...), Available: avail})
	}
	// go-jira's CreateTransitionPayload always sends "update":{} and
	// "fields":{}; send only the transition.
	payload := map[string]any{"transition": map[string]string{"id": pick.ID}}
	resp, err := c.api.Issue.DoTransitionWithPayloadWithContext(ctx, key, payload)
	closeBody(resp) // go-jira leaves the body of a bodiless call open
	if err != nil {
		return "", fmt.Errorf("jira: transition %s via %q: %w", key, pick.Name, c.cause(err))
	}
	return pick.Name, nil
}

// AddComment adds a wiki-markup comment to the issue and returns its id.
func (c *Client) AddComment(ctx context.Context, key, body string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("jira: comment on %s: %w", key, err)
	}
	// go-jira's Comment marshals empty author, updateAuthor and visibility
	// objects; send only the body.
	req, err := c.api.NewRequestWithContext(ctx, http.MethodPost, "rest/api/2/issue/"+key+"/comment", map[string]string{"body": body})
	if err != nil {
		return "", fmt.Errorf("jira: comment on %s: %w", key, c.cause(err))
	}
	var out struct {
		ID string `json:"id"`
	}
	if _, err := c.api.Do(req, &out); err != nil {
		return "", fmt.Errorf("jira: comment on %s: %w", key, c.cause(err))
	}
	if out.ID == "" {
		return "", fmt.Errorf("jira: comment on %s: response has no comment id", key)
	}
	return out.ID, nil
}

// UpdateComment replaces the body of comment id on the issue.
func (c *Client) UpdateComment(ctx context.Context, key, id, body string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("jira: update comment on %s: %w", key, err)
	}
	if !commentID.MatchString(id) {
		return fmt.Errorf("jira: update comment on %s: %w", key, engine.Permanently(fmt.Errorf("invalid comment id %q", id)))
	}
	if _, _, err := c.api.Issue.UpdateCommentWithContext(ctx, key, &gojira.Comment{ID: id, Body: body}); err != nil {
		return fmt.Errorf("jira: update comment %s on %s: %w", id, key, c.cause(err))
	}
	return nil
}

func (c *Client) ref(id, key string) coe.TicketRef {
	return coe.TicketRef{ID: id, Key: key, URL: c.base + "/browse/" + url.PathEscape(key)}
}

// cause returns what to wrap for a failed go-jira call: the *engine.Error the
// transport produced when there is one, without go-jira's "No response
// returned" and net/http's `Post "<url>"` wrappers around it, and with any
// credential scrubbed from the text.
func (c *Client) cause(err error) error {
	var e *engine.Error
	if errors.As(err, &e) {
		err = e
	}
	return httpx.Redact(err, c.redact)
}

var (
	// issueKey accepts a key (OPS-12) or a numeric id. go-jira formats it
	// into the path unescaped, so nothing else may pass.
	issueKey  = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9_]*-[0-9]+|[0-9]+)$`)
	commentID = regexp.MustCompile(`^[0-9]+$`)
)

func checkKey(key string) error {
	if !issueKey.MatchString(key) {
		return engine.Permanently(fmt.Errorf("invalid issue key %q", key))
	}
	return nil
}

// QuoteJQL quotes s as a JQL string literal: double quotes, with backslash,
// quote and control characters escaped.
func QuoteJQL(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func closeBody(resp *gojira.Response) {
	if resp != nil && resp.Response != nil && resp.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}
}

// authTransport adds the credentials to requests for the configured site
// only: the http.Client follows redirects, and a redirect to another host
// must not carry the token there.
type authTransport struct {
	base   http.RoundTripper
	origin string
	header string
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if origin(req.URL) == t.origin {
		r.Header.Set("Authorization", t.header)
	} else {
		r.Header.Del("Authorization")
	}
	return t.base.RoundTrip(r)
}

// origin is scheme://host:port with the default port made explicit.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
