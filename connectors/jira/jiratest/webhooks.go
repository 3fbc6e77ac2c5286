package jiratest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Webhook headers, as Jira Cloud sends them.
const (
	WebhookSignatureHeader = "X-Hub-Signature"
	WebhookIDHeader        = "X-Atlassian-Webhook-Identifier"
	WebhookRetryHeader     = "X-Atlassian-Webhook-Retry"
)

const (
	// webhookRetries is how many times a delivery is retried after a
	// connection failure or a 408, 409, 425, 429 or 5xx answer.
	webhookRetries = 5
	webhookBackoff = 10 * time.Millisecond
	webhookTimeout = 5 * time.Second
)

// SendWebhooks makes the server POST a webhook to url for every change from
// now on, made through the API or out-of-band: jira:issue_created,
// jira:issue_updated (edits, transitions, assignments, links, comments) and
// jira:issue_deleted. Bodies are shaped like Jira Cloud's (timestamp in ms,
// webhookEvent, issue_event_type_name, user, issue with all its fields,
// changelog.items with field, fieldId, from, fromString, to, toString) and
// rendered when the change happens. Each delivery carries a unique
// X-Atlassian-Webhook-Identifier and, when secret is not empty,
// "X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>". Deliveries are
// made one at a time, in the order of the changes, from a goroutine, and
// retried (same identifier, X-Atlassian-Webhook-Retry: n) up to 5 times on
// connection failures, 408, 409, 425, 429 and 5xx. An empty url stops
// sending.
func (s *Server) SendWebhooks(url, secret string) {
	w := &s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	w.url, w.secret = url, []byte(secret)
	if url != "" && !w.running && !w.closed {
		w.running = true
		w.done = make(chan struct{})
		go w.loop()
	}
}

// DropWebhooks makes changes send no webhook while drop is true, as if
// Jira lost the deliveries.
func (s *Server) DropWebhooks(drop bool) {
	w := &s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	w.drop = drop
}

// Flush waits until every webhook queued so far was delivered or given up
// (or the server was closed).
func (s *Server) Flush() {
	w := &s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	for len(w.queue) > 0 && !w.closed {
		w.cond.Wait()
	}
}

// Deliveries returns how many webhooks the receiver acknowledged (2xx).
func (s *Server) Deliveries() int {
	w := &s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.delivered
}

// DroppedWebhooks returns how many webhooks were not sent because of
// DropWebhooks, or given up after retries.
func (s *Server) DroppedWebhooks() int {
	w := &s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// webhooks is the sender. Its mutex nests inside s.mu (changes enqueue
// while holding s.mu); the sending goroutine never takes s.mu, so a
// receiver may call the fake back while it handles a delivery.
type webhooks struct {
	mu        sync.Mutex
	cond      *sync.Cond
	url       string
	secret    []byte
	drop      bool
	queue     []delivery // queue[0] is being delivered
	delivered int
	dropped   int
	seq       int
	prefix    string
	running   bool
	closed    bool
	done      chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc
	client    *http.Client
}

type delivery struct {
	id     string
	url    string
	secret []byte
	body   []byte
}

// init prepares w on first use; w.mu held.
func (w *webhooks) init() {
	if w.cond != nil {
		return
	}
	w.cond = sync.NewCond(&w.mu)
	var b [6]byte
	_, _ = rand.Read(b[:])
	w.prefix = hex.EncodeToString(b[:])
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.client = &http.Client{Timeout: webhookTimeout}
}

// active reports whether a change now would be sent, counting it as
// dropped when DropWebhooks is on.
func (w *webhooks) active() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.url == "" || w.closed {
		return false
	}
	if w.drop {
		w.dropped++
		return false
	}
	return true
}

func (w *webhooks) enqueue(body []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.url == "" || w.closed {
		return
	}
	w.seq++
	w.queue = append(w.queue, delivery{
		id:     w.prefix + "-" + strconv.Itoa(w.seq),
		url:    w.url,
		secret: w.secret,
		body:   body,
	})
	w.cond.Broadcast()
}

func (w *webhooks) loop() {
	defer close(w.done)
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && !w.closed {
			w.cond.Wait()
		}
		if w.closed {
			w.mu.Unlock()
			return
		}
		d := w.queue[0]
		w.mu.Unlock()

		ok := w.deliver(d)

		w.mu.Lock()
		w.queue = w.queue[1:]
		if ok {
			w.delivered++
		} else {
			w.dropped++
		}
		w.cond.Broadcast()
		w.mu.Unlock()
	}
}

// deliver POSTs d, retrying transient failures; it reports a 2xx answer.
func (w *webhooks) deliver(d delivery) bool {
	for attempt := 0; attempt <= webhookRetries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(webhookBackoff << (attempt - 1))
			select {
			case <-t.C:
			case <-w.ctx.Done():
				t.Stop()
				return false
			}
		}
		req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
		if err != nil {
			return false
		}
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		req.Header.Set("User-Agent", "Atlassian Webhook HTTP Client")
		req.Header.Set(WebhookIDHeader, d.id)
		if attempt > 0 {
			req.Header.Set(WebhookRetryHeader, strconv.Itoa(attempt))
		}
		if len(d.secret) > 0 {
			req.Header.Set(WebhookSignatureHeader, SignWebhook(d.secret, d.body))
		}
		resp, err := w.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
			switch c := resp.StatusCode; {
			case c >= 200 && c < 300:
				return true
			case c != 408 && c != 409 && c != 425 && c != 429 && c < 500:
				return false // the receiver refused it: no retry
			}
		}
		if w.ctx.Err() != nil {
			return false
		}
	}
	return false
}

// close stops the sender and waits for it.
func (w *webhooks) close() {
	w.mu.Lock()
	w.init()
	w.closed = true
	w.cancel()
	w.cond.Broadcast()
	running, done := w.running, w.done
	w.mu.Unlock()
	if running {
		<-done
	}
}

// SignWebhook is the X-Hub-Signature value Jira sends for body.
func SignWebhook(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ---- events; all with s.mu held ----

// hookBase is the site URL webhooks name.
func (s *Server) hookBase() string {
	if s.URL != "" {
		return s.URL
	}
	return "http://jiratest.invalid"
}

// emit renders and queues one webhook.
func (s *Server) emit(event, typ string, is *Issue, actor string, items []map[string]any, extra map[string]any) {
	if !s.hooks.active() {
		return
	}
	base := s.hookBase()
	body := map[string]any{
		"timestamp":             s.now().UnixMilli(),
		"webhookEvent":          event,
		"issue_event_type_name": typ,
		"user":                  s.renderUser(base, actor),
		"issue":                 s.renderIssue(base, is, fieldSet{all: true, exclude: map[string]bool{"comment": true}}),
	}
	if items != nil {
		s.nextChange++
		body["changelog"] = map[string]any{"id": strconv.Itoa(10000 + s.nextChange), "items": items}
	}
	for k, v := range extra {
		body[k] = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		return
	}
	s.hooks.enqueue(b)
}

func (s *Server) hookCreated(is *Issue, actor string) {
	if !s.hooks.wanted() {
		return
	}
	s.emit("jira:issue_created", "issue_created", is, actor, s.changelog(&Issue{}, is, true), nil)
}

func (s *Server) hookUpdated(before Issue, is *Issue, actor string) {
	if !s.hooks.wanted() {
		return
	}
	items := s.changelog(&before, is, false)
	if len(items) == 0 {
		return
	}
	typ := "issue_updated"
	only := func(ids ...string) bool {
		for _, it := range items {
			id, _ := it["fieldId"].(string)
			if !contains(ids, id) {
				return false
			}
		}
		return true
	}
	switch {
	case only("status", "resolution"):
		typ = "issue_generic"
	case only("assignee"):
		typ = "issue_assigned"
	}
	s.emit("jira:issue_updated", typ, is, actor, items, nil)
}

func (s *Server) hookComment(is *Issue, c Comment, actor string, edited bool) {
	if !s.hooks.wanted() {
		return
	}
	typ := "issue_commented"
	if edited {
		typ = "issue_comment_edited"
	}
	s.emit("jira:issue_updated", typ, is, actor, nil, map[string]any{"comment": s.renderComment(s.hookBase(), is, c)})
}

func (s *Server) hookDeleted(is *Issue, actor string) {
	if !s.hooks.wanted() {
		return
	}
	s.emit("jira:issue_deleted", "issue_deleted", is, actor, nil, nil)
}

func (s *Server) hookLink(is, other *Issue, text, actor string) {
	if !s.hooks.wanted() {
		return
	}
	item := map[string]any{"field": "Link", "fieldtype": "jira", "from": nil, "fromString": nil, "to": other.Key, "toString": text}
	s.emit("jira:issue_updated", "issue_updated", is, actor, []map[string]any{item}, nil)
}

func (s *Server) hookUnlink(is, other *Issue, actor string) {
	if !s.hooks.wanted() {
		return
	}
	item := map[string]any{"field": "Link", "fieldtype": "jira", "from": other.Key, "fromString": "This issue is linked to " + other.Key, "to": nil, "toString": nil}
	s.emit("jira:issue_updated", "issue_updated", is, actor, []map[string]any{item}, nil)
}

// wanted is a cheap check that a webhook target is set, to skip building
// changelogs nobody receives.
func (w *webhooks) wanted() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.url != "" && !w.closed
}

// changelog lists the fields that differ between before and after, as
// Jira's changelog items; on create, before is empty and the status item is
// named "Status" as in Jira's issue_created captures.
func (s *Server) changelog(before, after *Issue, create bool) []map[string]any {
	items := []map[string]any{}
	add := func(field, id string, from, fromStr, to, toStr any) map[string]any {
		it := map[string]any{"field": field, "fieldtype": "jira", "fieldId": id, "from": from, "fromString": fromStr, "to": to, "toString": toStr}
		items = append(items, it)
		return it
	}
	user := func(field string, b, a string) {
		if b == a {
			return
		}
		it := add(field, field, nullIfEmpty(b), nullIfEmpty(s.displayName(b)), nullIfEmpty(a), nullIfEmpty(s.displayName(a)))
		it["tmpFromAccountId"], it["tmpToAccountId"] = nullIfEmpty(b), nullIfEmpty(a)
	}
	user("assignee", before.Assignee, after.Assignee)
	if b, a := strings.Join(before.Components, ", "), strings.Join(after.Components, ", "); b != a {
		add("Component", "components", nil, nullIfEmpty(b), nil, nullIfEmpty(a))
	}
	if before.Description != after.Description {
		add("description", "description", nil, nullIfEmpty(before.Description), nil, nullIfEmpty(after.Description))
	}
	if before.DueDate != after.DueDate {
		add("duedate", "duedate", nullIfEmpty(before.DueDate), dueString(before.DueDate), nullIfEmpty(after.DueDate), dueString(after.DueDate))
	}
	if b, a := strings.Join(before.Labels, " "), strings.Join(after.Labels, " "); b != a {
		add("labels", "labels", nil, b, nil, a)
	}
	if before.Priority != after.Priority {
		add("priority", "priority", idOf(before.Priority, priorityID), nullIfEmpty(before.Priority), idOf(after.Priority, priorityID), nullIfEmpty(after.Priority))
	}
	if create {
		user("reporter", "", after.Reporter)
	}
	if before.Resolution != after.Resolution {
		add("resolution", "resolution", idOf(before.Resolution, resolutionID), nullIfEmpty(before.Resolution), idOf(after.Resolution, resolutionID), nullIfEmpty(after.Resolution))
	}
	if before.Status != after.Status {
		field := "status"
		if create {
			field = "Status"
		}
		add(field, "status", idOf(before.Status, s.statusID), nullIfEmpty(before.Status), idOf(after.Status, s.statusID), nullIfEmpty(after.Status))
	}
	if before.Summary != after.Summary {
		add("summary", "summary", nil, nullIfEmpty(before.Summary), nil, nullIfEmpty(after.Summary))
	}
	return items
}

func idOf(name string, id func(string) string) any {
	if name == "" {
		return nil
	}
	return id(name)
}

func resolutionID(string) string { return "10000" }

// dueString is how Jira's changelog spells a due date.
func dueString(d string) any {
	if d == "" {
		return nil
	}
	return d + " 00:00:00.0"
}

// displayName of an account, from the directory; s.mu held.
func (s *Server) displayName(accountID string) string {
	if u, ok := s.users[accountID]; ok && u.DisplayName != "" {
		return u.DisplayName
	}
	return accountID
}
