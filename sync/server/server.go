// Package server is coesync's HTTP front: webhook ingest and health on the
// public listener; status page, report, metrics and readiness on the admin one.
// A webhook is verified, decoded down to its envelope, stored durably with
// its job in one group-committed transaction, and only then answered 202.
// Everything slower happens in jobs.
package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/metrics"
	"github.com/coesync/coesync/sync/store"
	"github.com/coesync/coesync/sync/version"
)

// MaxBody is the largest webhook body accepted (PagerDuty's are a few KB).
const MaxBody = 1 << 20

// Source is one webhook sender: how to authenticate its deliveries and
// turn a body into a delivery with its jobs.
type Source struct {
	// Name labels metrics and logs ("pagerduty", "github", "jira").
	Name string
	// SignatureHeader names the header that carries the delivery's
	// signature: a delivery without it (and, for Jira, without a secret
	// query parameter) is unsigned, and counts apart from a wrong one.
	SignatureHeader string
	// Verify authenticates the raw body; an error means 401.
	Verify func(r *http.Request, body []byte) error
	// FormPayload accepts application/x-www-form-urlencoded deliveries
	// (GitHub's default content type): Verify checks the raw body, and
	// the JSON in its payload field is what Parse sees and the store
	// keeps.
	FormPayload bool
	// Parse decodes a verified body; an error means malformed input (400).
	// The delivery's ID is its deduplication key.
	Parse func(r *http.Request, body []byte) (store.Delivery, error)
}

// Ingester stores a delivery durably (store.Committer).
type Ingester interface {
	Submit(ctx context.Context, d store.Delivery) (dup bool, err error)
}

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server holds the HTTP handlers.
type Server struct {
	// Webhooks maps a path ("/webhooks/pagerduty") to its sender.
	Webhooks map[string]*Source
	// InsecureSkipVerify accepts unsigned webhooks (development only).
	InsecureSkipVerify bool
	Ingest             Ingester
	Store              Pinger
	Metrics            *metrics.Metrics
	Log                *slog.Logger
	Now                func() time.Time
	// Reports serves GET /report and the status page GET / on the admin
	// listener; nil leaves them out.
	Reports *engine.Reporter
	// Counter counts rejected deliveries for the weekly report (a buffer
	// flushed to the store, off the request path); may be nil.
	Counter interface{ Add(name string) }
	// AdminToken, when set, is the bearer token AdminHandler requires.
	AdminToken string
	// MaxInflightBytes bounds the webhook body bytes held at once
	// (DefaultMaxInflightBytes when zero), with a reserve of an eighth of
	// it for bodies declared at most 64 KiB. Each request reserves its
	// Content-Length (MaxBody when unknown) before reading; one that does
	// not fit gets 503 with Retry-After, its body unread.
	MaxInflightBytes int64

	inflightInit sync.Once
	inflight     inflight
	rejectLog    rejectLog
}

// busyRetryAfter is the Retry-After, in seconds, of a 503 for a full
// in-flight bound: the requests holding it finish within ReadTimeout.
const busyRetryAfter = "5"

// Handler returns the routes of the webhook listener, the one the
// senders reach from the internet: the webhooks and /healthz. Everything
// else (the status page, the report, metrics, readiness) is on
// AdminHandler and answers 404 here.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for path, src := range s.Webhooks {
		mux.Handle(path, s.webhook(src))
	}
	mux.HandleFunc("GET /healthz", healthz)
	return mux
}

// AdminHandler returns the routes of the admin listener, which shows
// incident data and must not face the internet: GET /, /report, /metrics,
// /readyz (and /healthz). With AdminToken set, every request but the
// probes (/healthz, /readyz: they show nothing but "ok" and the kubelet
// sends no token) must carry it as a bearer token, or gets 401.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", s.ready)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics.Handler())
	}
	mux.Handle("GET /version", version.Handler())
	if s.Reports != nil {
		mux.HandleFunc("GET /report", s.reportPage)
		mux.HandleFunc("GET /{$}", s.statusPage)
	}
	if s.AdminToken == "" {
		return mux
	}
	want := sha256.Sum256([]byte("Bearer " + s.AdminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			mux.ServeHTTP(w, r)
			return
		}
		// Hashing first makes the comparison constant-time whatever the
		// lengths.
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="coesync admin"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// HTTPServer wraps h with the timeouts that keep slow or idle clients from
// holding the server: headers within 5 s, a whole request within 30 s.
func HTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		s.Log.Warn("not ready: store does not answer", "err", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	if h, ok := s.Store.(interface{ WriteHealthy(context.Context) error }); ok && h.WriteHealthy(ctx) != nil {
		http.Error(w, "store refuses writes", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

func (s *Server) count(src *Source, outcome string) {
	if s.Metrics != nil {
		s.Metrics.Webhooks.WithLabelValues(src.Name, outcome).Inc()
	}
}

// reject answers a 4xx. Only bad signatures and malformed requests get one:
// PagerDuty drops a delivery on a 4xx and disables the subscription after
// three drops.
func (s *Server) reject(w http.ResponseWriter, src *Source, status int, outcome, msg string) {
	s.count(src, outcome)
	reason := strings.TrimPrefix(outcome, "rejected_")
	if s.Counter != nil {
		s.Counter.Add(engine.CounterWebhookRejected + reason)
		if reason == "signature" {
			s.Counter.Add(engine.CounterWebhookBadSignature + src.Name)
		}
	}
	s.rejectLog.note(s.Log, s.now(), src.Name, reason)
	http.Error(w, msg, status)
}

// signed reports whether r carries a signature for src: its signature
// header, or for Jira the secret query parameter.
func signed(r *http.Request, src *Source) bool {
	if src.SignatureHeader == "" || r.Header.Get(src.SignatureHeader) != "" {
		return true
	}
	return src.Name == "jira" && r.URL.Query().Has("secret")
}

// webhook is the ingest hot path: read at most MaxBody, authenticate,
// decode only what routing needs, commit durably (group commit), 202.
func (s *Server) webhook(src *Source) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			s.reject(w, src, http.StatusMethodNotAllowed, "rejected_method", "method not allowed")
			return
		}
		form := false
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			switch {
			case err == nil && mt == "application/json":
			case err == nil && mt == formType && src.FormPayload:
				form = true
			case src.FormPayload:
				s.reject(w, src, http.StatusUnsupportedMediaType, "rejected_content_type", "want application/json or "+formType)
				return
			default:
				s.reject(w, src, http.StatusUnsupportedMediaType, "rejected_content_type", "want application/json")
				return
			}
		}
		if r.ContentLength > MaxBody {
			s.reject(w, src, http.StatusRequestEntityTooLarge, "rejected_too_large", "body over 1 MiB")
			return
		}
		reserve := int64(MaxBody)
		if r.ContentLength >= 0 {
			reserve = r.ContentLength
		}
		s.inflightOnce()
		g, ok := s.inflight.reserve(reserve)
		if !ok {
			// Not the sender's fault and not for long: a 5xx makes it
			// retry, and the body is never read.
			s.count(src, "busy")
			w.Header().Set("Retry-After", busyRetryAfter)
			w.Header().Set("Connection", "close")
			http.Error(w, "too many deliveries in flight, retry later", http.StatusServiceUnavailable)
			return
		}
		defer s.inflight.release(g)
		buf := getBuf()
		defer putBuf(buf)
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBody)); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.reject(w, src, http.StatusRequestEntityTooLarge, "rejected_too_large", "body over 1 MiB")
				return
			}
			s.reject(w, src, http.StatusBadRequest, "rejected_read", "could not read body")
			return
		}
		body := buf.Bytes()
		if !s.InsecureSkipVerify {
			if err := src.Verify(r, body); err != nil {
				if !signed(r, src) {
					s.reject(w, src, http.StatusUnauthorized, "rejected_unsigned", "missing signature")
					return
				}
				s.reject(w, src, http.StatusUnauthorized, "rejected_signature", "invalid signature")
				return
			}
		}
		if form {
			// The signature covers the form as sent; the event is the
			// JSON in its payload field.
			payload, ok := formPayload(body)
			if !ok {
				s.reject(w, src, http.StatusBadRequest, "rejected_malformed", "form without a payload field")
				return
			}
			body = payload
		}
		if len(body) == 0 {
			s.reject(w, src, http.StatusBadRequest, "rejected_malformed", "empty body")
			return
		}
		d, err := src.Parse(r, body)
		if err != nil {
			s.reject(w, src, http.StatusBadRequest, "rejected_malformed", "malformed webhook")
			return
		}
		d.Source, d.ReceivedAt, d.Body = src.Name, s.now(), bytes.Clone(body)
		if err := store.CheckDelivery(d); err != nil { // ids that would collide or poison a batch
			s.reject(w, src, http.StatusBadRequest, "rejected_malformed", "malformed webhook: "+err.Error())
			return
		}
		dup, err := s.Ingest.Submit(r.Context(), d)
		if errors.Is(err, store.ErrUnstorable) {
			// It fails the same way every time: a 5xx would be retried for hours.
			s.reject(w, src, http.StatusBadRequest, "rejected_unstorable", err.Error())
			return
		}
		if err != nil {
			// Our failure, not the sender's: a 5xx makes it retry.
			s.count(src, "error")
			s.Log.Error("could not store webhook", "source", src.Name, "delivery", d.ID, "err", err)
			http.Error(w, "could not store the event, retry later", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		if dup {
			s.count(src, "duplicate")
			if s.Counter != nil {
				s.Counter.Add(engine.CounterWebhookDuplicate + src.Name)
			}
			io.WriteString(w, `{"status":"duplicate"}`)
			return
		}
		s.count(src, "accepted")
		io.WriteString(w, `{"status":"accepted"}`)
	}
}

// PagerDuty is the PagerDuty V3 webhook source: verify checks
// X-PagerDuty-Signature, decode reads the envelope; incident.resolved
// enqueues the COE draft.
func PagerDuty(verify func(header string, body []byte) error, decode func([]byte) (engine.WebhookEvent, error)) *Source {
	return &Source{
		Name:            "pagerduty",
		SignatureHeader: "X-PagerDuty-Signature",
		Verify:          func(r *http.Request, body []byte) error { return verify(r.Header.Get("X-PagerDuty-Signature"), body) },
		Parse: func(_ *http.Request, body []byte) (store.Delivery, error) {
			ev, err := decode(body)
			if err != nil {
				return store.Delivery{}, err
			}
			d := store.Delivery{ID: ev.ID, EventType: ev.Type, ResourceID: ev.IncidentID}
			if ev.Type == engine.EventIncidentResolved {
				d.Jobs = []store.Job{engine.DraftCOEJob(ev.IncidentID)}
			}
			return d, nil
		},
	}
}

const formType = "application/x-www-form-urlencoded"

// formPayload returns the payload field of a form-encoded body.
func formPayload(body []byte) ([]byte, bool) {
	vals, err := url.ParseQuery(string(body))
	if err != nil || len(vals["payload"]) != 1 || vals.Get("payload") == "" {
		return nil, false
	}
	return []byte(vals.Get("payload")), true
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
