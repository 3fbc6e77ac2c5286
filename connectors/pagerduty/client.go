// Package pagerduty is coesync's PagerDuty connector: a REST client that
// implements engine.IncidentSource on top of go-pagerduty v1.8.0, and the V3
// webhook signature check and envelope decoder. Vendor types never leave
// this package; callers see coe and engine types only.
//
// Every failed call returns an error wrapped with the operation
// ("pagerduty: list log entries of PX: ...") whose chain holds an
// *engine.Error classifying the failure. go-pagerduty formats transport
// errors with %v, which cuts the chain, so the client captures the
// classified error itself (see doer) instead of relying on the vendor's.
package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/coesync/coesync/connectors/internal/httpx"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

const (
	// DefaultBaseURL is PagerDuty's REST API.
	DefaultBaseURL = "https://api.pagerduty.com"
	// DefaultTimeout bounds one HTTP request when Options.Timeout is zero.
	DefaultTimeout = 30 * time.Second

	serviceName = "pagerduty"
	// pageLimit is the log entry page size; PagerDuty caps limit at 100.
	pageLimit = 100
	// maxPages stops a server that keeps answering more=true.
	maxPages = 1000
	// maxBody bounds one response body; go-pagerduty reads bodies whole.
	maxBody  = 32 << 20
	redacted = "[REDACTED]"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the REST API root; empty means DefaultBaseURL.
	BaseURL string
	// Token is a REST API key, sent as "Authorization: Token token=...".
	Token string
	// From is the email of the PagerDuty user on whose behalf notes are
	// added (PagerDuty's required From header). Only AddNote needs it.
	From string
	// Timeout bounds each HTTP request; zero means DefaultTimeout.
	Timeout time.Duration
	// Observer is told about every call; may be nil.
	Observer httpx.Observer
	// Transport is the base RoundTripper under the classifying transport;
	// nil means http.DefaultTransport.
	Transport http.RoundTripper
}

// Client reads incidents, their log entries and notes from PagerDuty, and
// adds notes. It is safe for concurrent use.
type Client struct {
	pd    *gopd.Client
	from  string
	token string
}

var _ engine.IncidentSource = (*Client)(nil)

// New returns a Client. It fails when the token is missing or BaseURL is
// not an absolute http(s) URL.
func New(o Options) (*Client, error) {
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("pagerduty: Options.Token is required")
	}
	base := strings.TrimRight(strings.TrimSpace(o.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		// The URL itself is not echoed: it might carry credentials.
		return nil, errors.New("pagerduty: Options.BaseURL must be an absolute http(s) URL without credentials, query or fragment")
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	hc := &http.Client{
		Timeout: timeout,
		Transport: &httpx.Transport{
			Base:     o.Transport,
			Service:  serviceName,
			Observer: o.Observer,
		},
		// The REST API does not redirect; following one would only risk
		// sending the request (and, same-host, the token) somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	pd := gopd.NewClient(o.Token, gopd.WithAPIEndpoint(base))
	// v1.8.0 has no client option for this; the field is exported instead.
	pd.HTTPClient = &doer{hc: hc}
	return &Client{pd: pd, from: strings.TrimSpace(o.From), token: o.Token}, nil
}

// Incident fetches one incident. A missing incident is a Permanent
// *engine.Error with Status 404.
func (c *Client) Incident(ctx context.Context, id string) (coe.Incident, error) {
	if err := checkID(id); err != nil {
		return coe.Incident{}, c.fail("get incident", err)
	}
	op := "get incident " + id
	var inc *gopd.Incident
	err := c.call(ctx, func(ctx context.Context) (err error) {
		inc, err = c.pd.GetIncidentWithContext(ctx, id)
		return err
	})
	if err != nil {
		return coe.Incident{}, c.fail(op, err)
	}
	out, err := toIncident(inc)
	if err != nil {
		return coe.Incident{}, c.fail(op, badData(err))
	}
	return out, nil
}

// LogEntries returns every log entry of the incident, all pages of the
// full (is_overview=false) log, oldest first. Entries seen twice because
// the log grew while paging are returned once.
func (c *Client) LogEntries(ctx context.Context, id string) ([]coe.LogEntry, error) {
	if err := checkID(id); err != nil {
		return nil, c.fail("list log entries", err)
	}
	var (
		all  []coe.LogEntry
		seen = make(map[string]bool)
		off  uint
	)
	for page := 0; ; page++ {
		op := fmt.Sprintf("list log entries of %s (offset %d)", id, off)
		if page == maxPages {
			return nil, c.fail(op, badData(fmt.Errorf("more than %d pages", maxPages)))
		}
		var resp *gopd.ListIncidentLogEntriesResponse
		err := c.call(ctx, func(ctx context.Context) (err error) {
			// IsOverview false is omitted from the query (omitempty);
			// PagerDuty's default is the full log.
			resp, err = c.pd.ListIncidentLogEntriesWithContext(ctx, id, gopd.ListIncidentLogEntriesOptions{
				Limit:  pageLimit,
				Offset: off,
			})
			return err
		})
		if err != nil {
			return nil, c.fail(op, err)
		}
		for i := range resp.LogEntries {
			e, err := toLogEntry(&resp.LogEntries[i])
			if err != nil {
				return nil, c.fail(op, badData(err))
			}
			if e.ID != "" {
				if seen[e.ID] {
					continue
				}
				seen[e.ID] = true
			}
			all = append(all, e)
		}
		if !resp.More {
			break
		}
		if len(resp.LogEntries) == 0 {
			return nil, c.fail(op, badData(errors.New("empty page with more=true")))
		}
		off += uint(len(resp.LogEntries))
	}
	slices.SortStableFunc(all, func(a, b coe.LogEntry) int { return a.At.Compare(b.At) })
	return all, nil
}

// Notes returns the incident's notes, oldest first.
func (c *Client) Notes(ctx context.Context, id string) ([]coe.Note, error) {
	if err := checkID(id); err != nil {
		return nil, c.fail("list notes", err)
	}
	op := "list notes of " + id
	var notes []gopd.IncidentNote
	err := c.call(ctx, func(ctx context.Context) (err error) {
		notes, err = c.pd.ListIncidentNotesWithContext(ctx, id)
		return err
	})
	if err != nil {
		return nil, c.fail(op, err)
	}
	out := make([]coe.Note, 0, len(notes))
	for i := range notes {
		n, err := toNote(&notes[i])
		if err != nil {
			return nil, c.fail(op, badData(err))
		}
		out = append(out, n)
	}
	slices.SortStableFunc(out, func(a, b coe.Note) int { return a.At.Compare(b.At) })
	return out, nil
}

// AddNote adds a note to the incident on behalf of Options.From. Without
// From it fails permanently: PagerDuty rejects writes without that header.
func (c *Client) AddNote(ctx context.Context, id, content string) error {
	if err := checkID(id); err != nil {
		return c.fail("add note", err)
	}
	op := "add note to " + id
	if c.from == "" {
		return c.fail(op, engine.Permanently(errors.New("Options.From is empty; PagerDuty requires a From header (a user's email) to add a note")))
	}
	if strings.TrimSpace(content) == "" {
		return c.fail(op, engine.Permanently(errors.New("empty note")))
	}
	err := c.call(ctx, func(ctx context.Context) error {
		// go-pagerduty v1.8.0 takes the From header from note.User.Summary
		// (and also sends that as note.user.summary in the body).
		_, err := c.pd.CreateIncidentNoteWithContext(ctx, id, gopd.IncidentNote{
			Content: content,
			User:    gopd.APIObject{Summary: c.from},
		})
		return err
	})
	if err != nil {
		return c.fail(op, err)
	}
	return nil
}

// checkID rejects ids that are not PagerDuty-like: go-pagerduty pastes the
// id into the request path unescaped, so "../x" or "a?b" would reach
// another endpoint.
func checkID(id string) error {
	ok := id != "" && len(id) <= 64
	for i := 0; ok && i < len(id); i++ {
		b := id[i]
		ok = b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-'
	}
	if !ok {
		return engine.Permanently(fmt.Errorf("invalid incident id %q", id))
	}
	return nil
}

// badData marks a response that arrived but cannot be used.
func badData(err error) error {
	return &engine.Error{Kind: engine.Permanent, Service: serviceName, Msg: "unusable response", Err: err}
}

// fail wraps err with the operation and scrubs the token from it.
func (c *Client) fail(op string, err error) error {
	return c.redact(fmt.Errorf("pagerduty: %s: %w", op, err))
}

// redact removes the token from err's message. The token travels only in a
// header, but a misbehaving server could echo it into a body that the
// transport quotes; the chain stays reachable (with a scrubbed
// *engine.Error) for errors.As.
func (c *Client) redact(err error) error {
	msg := err.Error()
	if c.token == "" || !strings.Contains(msg, c.token) {
		return err
	}
	scrub := func(s string) string { return strings.ReplaceAll(s, c.token, redacted) }
	inner := err
	var e *engine.Error
	if errors.As(err, &e) {
		cp := *e
		cp.Msg = scrub(e.Msg)
		if e.Err != nil {
			cp.Err = httpx.Masked(scrub(e.Err.Error()), e.Err)
		}
		inner = &cp
	}
	return httpx.Masked(scrub(msg), inner)
}

// callState carries, per call, what go-pagerduty would otherwise lose: the
// classified transport error and the response status.
type callState struct {
	err    *engine.Error
	status int
}

type stateKey struct{}

// call runs one go-pagerduty request and returns its failure as an
// *engine.Error: the transport's when there was one, else a classification
// of the vendor's error (a response that did not decode is Permanent).
func (c *Client) call(ctx context.Context, f func(context.Context) error) (err error) {
	st := &callState{}
	ctx = context.WithValue(ctx, stateKey{}, st)
	defer func() {
		// go-pagerduty's Channel.UnmarshalJSON asserts channel.type to a
		// string and panics on null or a number.
		if r := recover(); r != nil {
			err = &engine.Error{Kind: engine.Permanent, Service: serviceName, Status: st.status,
				Msg: fmt.Sprintf("malformed response: decoder panicked: %v", r)}
		}
	}()
	err = f(ctx)
	if err == nil {
		return nil
	}
	if st.err != nil {
		return st.err
	}
	var ae gopd.APIError
	if errors.As(err, &ae) {
		// Only a status the transport passes (3xx, since redirects are not
		// followed) gets here.
		kind := engine.Permanent
		switch {
		case ae.StatusCode == http.StatusTooManyRequests:
			kind = engine.RateLimited
		case ae.StatusCode >= 500:
			kind = engine.Retryable
		}
		return &engine.Error{Kind: kind, Service: serviceName, Status: ae.StatusCode, Msg: ae.Error()}
	}
	return &engine.Error{Kind: engine.Permanent, Service: serviceName, Status: st.status, Msg: "unusable response", Err: err}
}

// doer is the HTTPClient given to go-pagerduty. It records the classified
// error of a failed request in the call's state, since go-pagerduty's
// checkResponse formats it with %v, and it bounds response bodies.
type doer struct{ hc *http.Client }

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	st, _ := req.Context().Value(stateKey{}).(*callState)
	resp, err := d.hc.Do(req)
	if err != nil {
		var e *engine.Error
		if !errors.As(err, &e) {
			// http.Client's own timeout replaces the transport's error by
			// a string-only one; it is a transient failure all the same.
			e = &engine.Error{Kind: engine.Retryable, Service: serviceName, Msg: req.Method + " " + req.URL.Path, Err: err}
		}
		if st != nil {
			st.err = e
		}
		return nil, err
	}
	if st != nil {
		st.status = resp.StatusCode
	}
	resp.Body = &boundedBody{rc: resp.Body, left: maxBody, st: st, what: req.Method + " " + req.URL.Path, status: resp.StatusCode}
	return resp, nil
}

// boundedBody fails reads past maxBody and records read failures.
type boundedBody struct {
	rc     io.ReadCloser
	left   int64
	st     *callState
	what   string
	status int
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n == 0 && err != nil {
			return 0, b.record(err)
		}
		return 0, b.record(&engine.Error{Kind: engine.Permanent, Service: serviceName, Status: b.status,
			Msg: fmt.Sprintf("%s: response body exceeds %d bytes", b.what, maxBody)})
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, b.record(err)
}

func (b *boundedBody) record(err error) error {
	if err == nil || err == io.EOF || b.st == nil {
		return err
	}
	var e *engine.Error
	if !errors.As(err, &e) {
		e = &engine.Error{Kind: engine.Retryable, Service: serviceName, Status: b.status, Msg: b.what + ": read body", Err: err}
	}
	b.st.err = e
	return err
}

func (b *boundedBody) Close() error { return b.rc.Close() }
