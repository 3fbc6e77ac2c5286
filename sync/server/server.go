// Package server is coesync's HTTP front: webhook ingest, health, metrics.
// A webhook is verified, decoded down to its envelope, stored durably with
// its job in one group-committed transaction, and only then answered 202.
// Everything slower happens in jobs.
package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coesync/coesync/internal/version"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/metrics"
	"github.com/coesync/coesync/sync/store"
)

// MaxBody is the largest webhook body accepted (PagerDuty's are a few KB).
const MaxBody = 1 << 20

// Source is one webhook sender: how to authenticate its deliveries and
// turn a body into a delivery with its jobs.
type Source struct {
	// Name labels metrics and logs ("pagerduty", "github", "jira").
	Name string
	// Verify authenticates the raw body; an error means 401.
	Verify func(r *http.Request, body []byte) error
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
	// Reports serves GET /report and the status page GET /; nil leaves
	// them out.
	Reports *engine.Reporter
	// Counter counts rejected deliveries for the weekly report (a buffer
	// flushed to the store, off the request path); may be nil.
	Counter interface{ Add(name string) }
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for path, src := range s.Webhooks {
		mux.Handle(path, s.webhook(src))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.ready)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics.Handler())
	}
	mux.Handle("GET /version", version.Handler()) // admin path: moves with /metrics
	if s.Reports != nil {
		mux.HandleFunc("GET /report", s.reportPage)
		mux.HandleFunc("GET /{$}", s.statusPage)
	}
	return mux
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
	io.WriteString(w, "ok\n")
}

var bufPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 8<<10)) }}

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
	if s.Counter != nil {
		s.Counter.Add(engine.CounterWebhookRejected + strings.TrimPrefix(outcome, "rejected_"))
	}
	http.Error(w, msg, status)
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
		if ct := r.Header.Get("Content-Type"); ct != "" {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
				s.reject(w, src, http.StatusUnsupportedMediaType, "rejected_content_type", "want application/json")
				return
			}
		}
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		defer bufPool.Put(buf)
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
				s.reject(w, src, http.StatusUnauthorized, "rejected_signature", "invalid signature")
				return
			}
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
		dup, err := s.Ingest.Submit(r.Context(), d)
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
		Name:   "pagerduty",
		Verify: func(r *http.Request, body []byte) error { return verify(r.Header.Get("X-PagerDuty-Signature"), body) },
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

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
