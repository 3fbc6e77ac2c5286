package server

import (
	"bytes"
	"net/http"
	"time"

	"github.com/coesync/coesync/sync/report"
)

// pageCSP forbids scripts and anything loaded from elsewhere: the pages are
// self-contained (inline CSS and SVG).
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := s.now()
	p, err := report.ParsePeriod(q.Get("week"), q.Get("since"), q.Get("until"), now, s.Reports.Location)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rep, err := s.Reports.Build(r.Context(), p)
	if err != nil {
		s.Log.Error("build report", "period", p.Label, "err", err)
		http.Error(w, "could not build the report", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := rep.HTML(&buf); err != nil {
		s.Log.Error("render report", "period", p.Label, "err", err)
		http.Error(w, "could not render the report", http.StatusInternalServerError)
		return
	}
	writePage(w, buf.Bytes())
}

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	now := s.now()
	loc := s.Reports.Location
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := now.In(loc).Date()
	today := report.Period{Since: time.Date(y, m, d, 0, 0, 0, 0, loc), Until: now}
	in, err := s.Reports.Input(r.Context(), today)
	if err != nil {
		s.Log.Error("status page", "err", err)
		http.Error(w, "could not read the store", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := report.StatusPage(&buf, report.Status{Now: now, Location: loc, Health: in.Health, ReportURL: "/report"}); err != nil {
		s.Log.Error("render status page", "err", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	writePage(w, buf.Bytes())
}

func writePage(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.Write(b)
}
