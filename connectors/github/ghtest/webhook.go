package ghtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// HookID is the X-GitHub-Hook-ID of every delivery.
const HookID = 424242

// Delivery is a webhook delivery the server attempted (or dropped).
type Delivery struct {
	ID     string // X-GitHub-Delivery
	Event  string // X-GitHub-Event: "issues" or "ping"
	Action string
	Repo   string
	Number int
	// Body is the payload that was (or would have been) posted.
	Body []byte
	// Dropped: DropWebhooks was on; nothing was sent.
	Dropped bool
	// Status is the receiver's response status, 0 when none.
	Status int
	// Err is the transport error, if any.
	Err string
	At  time.Time
}

type hookJob struct {
	d      Delivery
	url    string
	secret []byte
}

// hooks posts webhooks in order from one goroutine.
type hooks struct {
	mu     sync.Mutex
	cond   *sync.Cond
	url    string
	secret []byte
	drop   bool
	queue  []hookJob
	busy   bool
	closed bool
	log    []Delivery
	client *http.Client
	tr     *http.Transport
}

func newHooks() *hooks {
	tr := &http.Transport{}
	h := &hooks{tr: tr, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
	h.cond = sync.NewCond(&h.mu)
	return h
}

// SendWebhooks posts a signed "issues" webhook to url for every change of an
// issue from now on, through the API or out of band. An empty url turns
// webhooks off. With an empty secret deliveries are unsigned, as GitHub
// sends them for a hook without a secret.
func (s *Server) SendWebhooks(url, secret string) {
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	h.url, h.secret = url, []byte(secret)
}

// DropWebhooks makes deliveries fail silently (on) or resume (off). GitHub
// never redelivers on its own; neither does the fake.
func (s *Server) DropWebhooks(on bool) {
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop = on
}

// Ping queues a "ping" delivery, as GitHub sends when a hook is created.
func (s *Server) Ping() {
	payload, _ := json.Marshal(map[string]any{
		"zen":     "Keep it logically awesome.",
		"hook_id": HookID,
		"hook": map[string]any{
			"type": "Repository", "id": HookID, "name": "web", "active": true,
			"events": []string{"issues"},
			"config": map[string]string{"content_type": "json", "insecure_ssl": "0"},
		},
	})
	s.hooks.enqueue(Delivery{Event: "ping", Body: payload}, s.now())
}

// Flush waits until every queued webhook was delivered, failed or dropped.
func (s *Server) Flush() {
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.busy || len(h.queue) > 0 {
		h.cond.Wait()
	}
}

// Deliveries returns the deliveries attempted or dropped so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Delivery(nil), h.log...)
}

func (h *hooks) enabled() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.url != "" && !h.closed
}

func (h *hooks) enqueue(d Delivery, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.url == "" || h.closed {
		return
	}
	d.ID = newGUID()
	d.At = at
	if h.drop {
		d.Dropped = true
		h.log = append(h.log, d)
		return
	}
	h.queue = append(h.queue, hookJob{d: d, url: h.url, secret: h.secret})
	if !h.busy {
		h.busy = true
		go h.run()
	}
}

func (h *hooks) run() {
	h.mu.Lock()
	for len(h.queue) > 0 && !h.closed {
		job := h.queue[0]
		h.queue = h.queue[1:]
		h.mu.Unlock()
		d := h.post(job)
		h.mu.Lock()
		h.log = append(h.log, d)
	}
	h.queue = nil
	h.busy = false
	h.cond.Broadcast()
	h.mu.Unlock()
}

func (h *hooks) post(job hookJob) Delivery {
	d := job.d
	req, err := http.NewRequest(http.MethodPost, job.url, bytes.NewReader(d.Body))
	if err != nil {
		d.Err = err.Error()
		return d
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/ghtest")
	req.Header.Set("X-GitHub-Event", d.Event)
	req.Header.Set("X-GitHub-Delivery", d.ID)
	req.Header.Set("X-GitHub-Hook-ID", strconv.Itoa(HookID))
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "repository")
	if len(job.secret) > 0 {
		m1 := hmac.New(sha1.New, job.secret)
		m1.Write(d.Body)
		req.Header.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(m1.Sum(nil)))
		m256 := hmac.New(sha256.New, job.secret)
		m256.Write(d.Body)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m256.Sum(nil)))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	d.Status = resp.StatusCode
	return d
}

// close drops what is queued and waits for the delivery in flight.
func (h *hooks) close() {
	h.mu.Lock()
	h.closed = true
	h.queue = nil
	for h.busy {
		h.cond.Wait()
	}
	h.mu.Unlock()
	h.tr.CloseIdleConnections()
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// ---- issues payloads ----

type payloadOpt func(p *issuesPayload, s *Server, is *issue)

type issuesPayload struct {
	Action     string         `json:"action"`
	Issue      wireIssue      `json:"issue"`
	Changes    map[string]any `json:"changes,omitempty"`
	Assignee   *wireUser      `json:"assignee,omitempty"`
	Label      *wireLabel     `json:"label,omitempty"`
	Repository wireRepo       `json:"repository"`
	Sender     wireUser       `json:"sender"`
}

func withAssignee(login string) payloadOpt {
	return func(p *issuesPayload, s *Server, _ *issue) {
		u := s.wireUser(login)
		p.Assignee = &u
	}
}

func withLabel(name string) payloadOpt {
	return func(p *issuesPayload, s *Server, is *issue) {
		l := s.wireLabel(is.repo, name)
		p.Label = &l
	}
}

// emitLocked queues an "issues" webhook with the issue as it is now. It is
// called under s.mu, so deliveries are queued in the order of the changes.
func (s *Server) emitLocked(action string, is *issue, sender string, changes map[string]any, opts ...payloadOpt) {
	if !s.hooks.enabled() {
		return
	}
	p := issuesPayload{
		Action:     action,
		Issue:      s.wireIssue(is, false),
		Changes:    changes,
		Repository: s.wireRepo(is.repo),
		Sender:     s.wireUser(sender),
	}
	for _, o := range opts {
		o(&p, s, is)
	}
	body, err := json.Marshal(p)
	if err != nil {
		panic("ghtest: marshal webhook: " + err.Error())
	}
	s.hooks.enqueue(Delivery{Event: "issues", Action: action, Repo: is.repo.fullName(), Number: is.number, Body: body}, s.now())
}
