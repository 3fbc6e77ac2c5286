// Package slack posts messages to a Slack incoming webhook.
//
// The webhook URL is the credential: whoever has it can post to the
// channel. The client never lets it out. Options and Client print and log
// without it (String, GoString, Format, LogValue, MarshalJSON), and every
// error Post returns is built afresh, without the *url.Error that net/http
// wraps around failures (whose text and URL field hold the whole URL) and
// with the URL, its path and its secret segment scrubbed from any text
// taken from a lower layer or from Slack's answer.
//
// Failures are *engine.Error, classified by httpx.Transport: 429 is
// RateLimited with Slack's Retry-After, 5xx and network errors (timeouts
// included) are Retryable, other 4xx ("invalid_payload", "no_text",
// "no_service", "channel_is_archived", …) are Permanent with Slack's text
// as Msg.
package slack

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
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coesync/coesync/connectors/internal/httpx"
	"github.com/coesync/coesync/sync/engine"
)

const (
	// DefaultTimeout bounds one post when Options.Timeout is zero.
	DefaultTimeout = 10 * time.Second

	serviceName = "slack"
	redacted    = "[REDACTED]"
	// maxResponse bounds the part of a successful answer read ("ok").
	maxResponse = 4 << 10
	// minSecretSegment is the shortest last path segment scrubbed on its
	// own (Slack's is 24 characters).
	minSecretSegment = 8
)

// Options configure a Client.
type Options struct {
	// WebhookURL is the incoming webhook, https://hooks.slack.com/services/…
	// It is a secret. http is accepted only for a loopback host (tests).
	WebhookURL string
	// Timeout bounds each post, answer included; zero means DefaultTimeout.
	Timeout time.Duration
	// Observer is told about every call; may be nil.
	Observer httpx.Observer
	// Transport is the base RoundTripper under the classifying transport;
	// nil means http.DefaultTransport.
	Transport http.RoundTripper
}

// String describes o without the webhook URL's path and query (the
// secret): only its scheme and host are shown.
func (o Options) String() string {
	return "slack.Options{WebhookURL: " + describe(o.WebhookURL) + ", Timeout: " + o.Timeout.String() + "}"
}

// GoString is String, so that %#v does not print the URL either.
func (o Options) GoString() string { return o.String() }

// Format prints String for every verb, so that no verb (%d, %x, %+v)
// falls back to printing the fields.
func (o Options) Format(f fmt.State, _ rune) { io.WriteString(f, o.String()) }

// LogValue implements slog.LogValuer without the secret.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("webhook_url", describe(o.WebhookURL)),
		slog.Duration("timeout", o.Timeout),
	)
}

// MarshalJSON encodes o without the secret.
func (o Options) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		WebhookURL string `json:"webhook_url"`
		Timeout    string `json:"timeout"`
	}{describe(o.WebhookURL), o.Timeout.String()})
}

// Client posts to one incoming webhook. It is safe for concurrent use.
type Client struct {
	hc *http.Client
	// wh is behind a pointer so that even printing a Client value through
	// reflection shows an address, never the URL.
	wh *webhook
}

// webhook holds the secret and what scrubs it.
type webhook struct {
	url     string
	path    string
	shown   string // scheme://host/[REDACTED]
	forms   []string
	scrub   *strings.Replacer
	timeout time.Duration
}

// New returns a Client. It fails when the URL is missing or malformed, is
// not https (http only on a loopback host), carries user information or a
// fragment, or has no path. No error quotes the URL.
func New(o Options) (*Client, error) {
	u, err := parseWebhook(o.WebhookURL)
	if err != nil {
		return nil, err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	wh := &webhook{
		url:     u.String(),
		path:    u.Path,
		shown:   u.Scheme + "://" + u.Host + "/" + redacted,
		timeout: timeout,
	}
	wh.forms = secretForms(strings.TrimSpace(o.WebhookURL), u)
	pairs := make([]string, 0, 2*len(wh.forms))
	for _, f := range wh.forms {
		pairs = append(pairs, f, redacted)
	}
	wh.scrub = strings.NewReplacer(pairs...)
	hc := &http.Client{
		Timeout: timeout,
		Transport: &httpx.Transport{
			Base:     o.Transport,
			Service:  serviceName,
			Observer: o.Observer,
		},
		// A webhook does not redirect; following one would send the
		// message somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Client{hc: hc, wh: wh}, nil
}

// String describes c by the scheme and host of its webhook.
func (c Client) String() string {
	if c.wh == nil {
		return "slack.Client{}"
	}
	return "slack.Client{WebhookURL: " + c.wh.shown + ", Timeout: " + c.wh.timeout.String() + "}"
}

// GoString is String.
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Client) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer without the secret.
func (c Client) LogValue() slog.Value {
	if c.wh == nil {
		return slog.GroupValue()
	}
	return slog.GroupValue(
		slog.String("webhook_url", c.wh.shown),
		slog.Duration("timeout", c.wh.timeout),
	)
}

// Post sends payload, a JSON message ({"text": …} or {"blocks": […]}), to
// the webhook. On failure it returns an *engine.Error (see the package
// documentation) whose text and chain hold no part of the webhook URL.
func (c *Client) Post(ctx context.Context, payload []byte) error {
	if c == nil || c.wh == nil {
		return &engine.Error{Kind: engine.Permanent, Service: serviceName, Msg: "client not made by New"}
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		return &engine.Error{Kind: engine.Permanent, Service: serviceName, Msg: "empty payload"}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.wh.url, bytes.NewReader(payload))
	if err != nil {
		return c.fail(ctx, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "coesync")
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.fail(ctx, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Statuses from 400 are errors of the transport; this is a
		// redirect (not followed) or something else unexpected.
		return &engine.Error{Kind: engine.Permanent, Service: serviceName, Status: resp.StatusCode,
			Msg: "unexpected answer " + strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)}
	}
	return nil
}

// fail turns an error of http.Client.Do into a fresh *engine.Error that
// carries the classification and a scrubbed description, but neither the
// *url.Error nor anything below it.
func (c *Client) fail(ctx context.Context, err error) error {
	out := &engine.Error{Kind: engine.Retryable, Service: serviceName}
	var ee *engine.Error
	if errors.As(err, &ee) {
		out.Kind, out.Status, out.RetryAfter = ee.Kind, ee.Status, ee.RetryAfter
		if ee.Status != 0 {
			// The transport's Msg is "POST <path>: <Slack's text>".
			msg := strings.TrimPrefix(ee.Msg, http.MethodPost+" "+c.wh.path+":")
			out.Msg = c.wh.clean(strings.TrimSpace(msg))
			if out.Msg == "" {
				out.Msg = http.StatusText(ee.Status)
			}
			return out
		}
	}
	out.Msg = "post to incoming webhook"
	out.Err = c.wh.cause(ctx, err)
	return out
}

// clean scrubs every form of the secret from s; should one survive (it
// cannot, short of a bug), s is dropped.
func (w *webhook) clean(s string) string {
	s = w.scrub.Replace(s)
	for _, f := range w.forms {
		if strings.Contains(s, f) {
			return redacted
		}
	}
	return s
}

// causeError describes the cause of a failed post without the URL. It
// unwraps only to the sentinels its cause matched (context.Canceled,
// context.DeadlineExceeded, …), never to the original error.
type causeError struct {
	msg       string
	timeout   bool
	sentinels []error
}

func (e *causeError) Error() string   { return e.msg }
func (e *causeError) Timeout() bool   { return e.timeout }
func (e *causeError) Unwrap() []error { return e.sentinels }

var sentinels = []error{context.Canceled, context.DeadlineExceeded, os.ErrDeadlineExceeded, io.ErrUnexpectedEOF}

func (w *webhook) cause(ctx context.Context, err error) error {
	ce := &causeError{}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			ce.sentinels = append(ce.sentinels, s)
		}
	}
	var ne net.Error
	ce.timeout = errors.As(err, &ne) && ne.Timeout()
	switch {
	case ctx.Err() != nil:
		ce.msg = ctx.Err().Error()
		ce.timeout = ce.timeout || errors.Is(ctx.Err(), context.DeadlineExceeded)
	case ce.timeout || errors.Is(err, context.DeadlineExceeded):
		ce.timeout = true
		ce.msg = "no answer within " + w.timeout.String()
	default:
		// The innermost description: below the *url.Error and the
		// transport's *engine.Error (both of which name the URL).
		inner := err
		var ue *url.Error
		if errors.As(inner, &ue) && ue.Err != nil {
			inner = ue.Err
		}
		var ee *engine.Error
		if errors.As(inner, &ee) && ee.Err != nil {
			inner = ee.Err
		}
		ce.msg = w.clean(inner.Error())
	}
	return ce
}

// parseWebhook validates a webhook URL; its errors never quote it.
func parseWebhook(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("slack: Options.WebhookURL is required")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("slack: Options.WebhookURL is not an absolute URL")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, errors.New("slack: Options.WebhookURL must be an https URL (http only on a loopback host, for tests)")
	}
	if u.User != nil || u.Fragment != "" || u.RawFragment != "" {
		return nil, errors.New("slack: Options.WebhookURL must not carry user information or a fragment")
	}
	if strings.Trim(u.Path, "/") == "" {
		return nil, errors.New("slack: Options.WebhookURL has no path (want https://hooks.slack.com/services/…)")
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// secretForms lists the spellings of the secret that a lower layer or a
// server could echo, longest first: the URL as given and as re-encoded
// (also %q-quoted and percent-encoded), the request URI, the path decoded
// and escaped, the query, and the last path segment (the token itself).
func secretForms(raw string, u *url.URL) []string {
	cand := []string{raw, u.String(), u.Redacted(), u.RequestURI(), u.EscapedPath(), u.Path, u.RawQuery,
		url.QueryEscape(u.String()), url.PathEscape(u.Path), url.QueryEscape(u.Path)}
	for _, s := range []string{raw, u.String()} {
		q := strconv.Quote(s)
		cand = append(cand, q[1:len(q)-1])
	}
	for _, p := range []string{u.Path, u.EscapedPath()} {
		p = strings.TrimRight(p, "/")
		seg := p[strings.LastIndexByte(p, '/')+1:]
		if len(seg) >= minSecretSegment {
			cand = append(cand, seg)
		}
	}
	var forms []string
	seen := map[string]bool{}
	for _, f := range cand {
		// A bare "/" or a single character would scrub ordinary text.
		if len(strings.Trim(f, "/")) < 2 || seen[f] {
			continue
		}
		seen[f] = true
		forms = append(forms, f)
	}
	// Longest first: at each position the replacer tries its patterns in
	// order.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return forms
}

// describe shows a webhook URL as scheme://host/[REDACTED], "" when
// empty, and [REDACTED] when it is not a valid webhook URL.
func describe(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return `""`
	}
	u, err := parseWebhook(raw)
	if err != nil {
		return redacted
	}
	return u.Scheme + "://" + u.Host + "/" + redacted
}
