package server_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/github"
	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/server"
	"github.com/coesync/coesync/sync/store"
)

// webhookServer serves the PagerDuty and GitHub sources with their real
// decoders over a SQLite store, signatures not checked (they cover only
// the body, which these tests replay as a sender could).
func webhookServer(t *testing.T) (http.Handler, store.Store) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "coesync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := store.NewStoreCommitter(st, 64, nil)
	t.Cleanup(func() { c.Close(); st.Close() })
	decodeGitHub := func(event, delivery string, body []byte) (coe.GitHubIssueEvent, bool, error) {
		ev, err := github.DecodeIssuesEvent(event, delivery, body)
		if errors.Is(err, github.ErrPing) || errors.Is(err, github.ErrIgnoredEvent) {
			return ev, false, nil
		}
		return ev, err == nil, err
	}
	s := &server.Server{
		Webhooks: map[string]*server.Source{
			"/webhooks/pagerduty": server.PagerDuty(nil, pagerduty.DecodeEvent),
			"/webhooks/github":    server.GitHub(nil, decodeGitHub),
		},
		InsecureSkipVerify: true,
		Ingest:             c,
		Store:              st,
		Log:                slog.New(slog.DiscardHandler),
	}
	return s.Handler(), st
}

func post(h http.Handler, path, body string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func pdEvent(id string) string {
	return `{"event":{"id":"` + id + `","event_type":"incident.acknowledged","occurred_at":"2026-11-16T09:00:00Z",` +
		`"data":{"id":"P1","type":"incident"}}}`
}

// Event ids that differ only in bytes a JSON decoder cannot read all
// became "evt-\uFFFD": the second and third were answered "duplicate" and
// never stored. Such ids, and ids PostgreSQL refuses, get a 400 naming the
// problem; a well-formed id is still accepted.
func TestWebhookRefusesIDsThatWouldCollideOrPoison(t *testing.T) {
	h, _ := webhookServer(t)
	tests := []struct {
		name, body string
		want       string
	}{
		{"raw \\xff", pdEvent("evt-\xff"), "UTF-8"},
		{"raw \\xfe", pdEvent("evt-\xfe"), "UTF-8"},
		{"raw \\xc0", pdEvent("evt-\xc0"), "UTF-8"},
		{"escaped NUL", pdEvent(`evt-\u0000`), "delivery id holds a control character"},
		{"lone surrogate", pdEvent(`evt-\ud800`), "U+FFFD"},
		{"other lone surrogate", pdEvent(`evt-\udbff`), "U+FFFD"},
		{"too long", pdEvent(strings.Repeat("e", 201)), "longer than 200 bytes"},
		{"NUL in the incident id", strings.Replace(pdEvent("evt-2"), `"P1"`, `"P\u0000"`, 1), "resource id holds a control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := post(h, "/webhooks/pagerduty", tc.body, nil)
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("got %d %q, want 400 with %q", w.Code, w.Body.String(), tc.want)
			}
		})
	}
	if w := post(h, "/webhooks/pagerduty", pdEvent("evt-1"), nil); w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), "accepted") {
		t.Fatalf("well-formed event: %d %q", w.Code, w.Body.String())
	}
	// A NUL escape elsewhere in the body is stored (bytea/BLOB) like any.
	body := strings.Replace(pdEvent("evt-3"), `"data"`, `"note":"a\u0000b","data"`, 1)
	if w := post(h, "/webhooks/pagerduty", body, nil); w.Code != http.StatusAccepted {
		t.Fatalf("NUL escape outside the routing fields: %d %q", w.Code, w.Body.String())
	}
}

// X-GitHub-Delivery is not covered by the signature: a captured body sent
// with an invalid or NUL-holding header is refused, not stored.
func TestWebhookRefusesGitHubDeliveryHeadersThatCannotBeStored(t *testing.T) {
	h, _ := webhookServer(t)
	for _, id := range []string{"d-\xff", "d-\xfe", "d-\x00", strings.Repeat("d", 201)} {
		w := post(h, "/webhooks/github", `{"zen":"ok"}`, map[string]string{"X-GitHub-Delivery": id, "X-GitHub-Event": "ping"})
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "delivery id") {
			t.Errorf("X-GitHub-Delivery %q: %d %q, want 400", id, w.Code, w.Body.String())
		}
	}
	w := post(h, "/webhooks/github", `{"zen":"ok"}`, map[string]string{"X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "X-GitHub-Event": "ping"})
	if w.Code != http.StatusAccepted {
		t.Fatalf("ping: %d %q", w.Code, w.Body.String())
	}
}

type failingIngest struct{ err error }

func (f failingIngest) Submit(context.Context, store.Delivery) (bool, error) { return false, f.err }

// A delivery the database refuses (ErrUnstorable) gets a 400: PagerDuty
// would retry a 5xx for hours and fail the same way. Other store errors
// stay 503, so that the sender retries.
func TestWebhookAnswersUnstorable400AndStoreFailure503(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("store: ingest 1 deliveries: %w", store.ErrUnstorable), http.StatusBadRequest},
		{errors.New("store: ingest 1 deliveries: disk I/O error"), http.StatusServiceUnavailable},
	} {
		s := &server.Server{
			Webhooks:           map[string]*server.Source{"/webhooks/pagerduty": server.PagerDuty(nil, pagerduty.DecodeEvent)},
			InsecureSkipVerify: true,
			Ingest:             failingIngest{tc.err},
			Log:                slog.New(slog.DiscardHandler),
		}
		if w := post(s.Handler(), "/webhooks/pagerduty", pdEvent("evt-1"), nil); w.Code != tc.want {
			t.Errorf("Submit error %q: %d, want %d", tc.err, w.Code, tc.want)
		}
	}
}

// GitHub's signature covers the body, not X-GitHub-Delivery: a captured
// body sent again under a fresh delivery id is a duplicate, and its job is
// not stored again.
func TestGitHubReplayUnderAFreshDeliveryIDIsADuplicate(t *testing.T) {
	h, st := webhookServer(t)
	body := `{"action":"closed","repository":{"full_name":"acme/api"},"sender":{"login":"mallory"},` +
		`"issue":{"id":1,"number":12,"title":"t","state":"closed","body":"<!-- coesync:action-item:OPS-2 -->"}}`
	for i, tc := range []struct{ delivery, body, want string }{
		{"72d3162e-cc78-11e3-81ab-4c9367dc0958", body, "accepted"},
		{"0b2c5e7a-0000-11e3-81ab-4c9367dc0958", body, "duplicate"}, // the replay
		{"1c3d6f8b-0000-11e3-81ab-4c9367dc0958", strings.Replace(body, `"t"`, `"t2"`, 1), "accepted"},
	} {
		w := post(h, "/webhooks/github", tc.body, map[string]string{"X-GitHub-Delivery": tc.delivery, "X-GitHub-Event": "issues"})
		if w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), tc.want) {
			t.Fatalf("delivery %d: %d %q, want 202 %s", i, w.Code, w.Body.String(), tc.want)
		}
	}
	ds, err := st.RecentDeliveries(context.Background(), "github", "acme/api#12", time.Time{}, 10)
	if err != nil || len(ds) != 2 {
		t.Fatalf("stored %d deliveries (%v), want 2: the replay is not stored", len(ds), err)
	}
	if n, err := st.DispatchDeliveries(context.Background()); err != nil || n != 2 {
		t.Fatalf("dispatched %d deliveries' jobs (%v), want 2", n, err)
	}
}

type writeFailingStore struct{ writeErr error }

func (writeFailingStore) Ping(context.Context) error           { return nil }
func (f writeFailingStore) WriteHealthy(context.Context) error { return f.writeErr }

// /readyz fails while the store refuses writes, though it answers reads: a
// full disk kept it at 200 while every webhook got 503.
func TestReadyzFailsWhileWritesFail(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{{nil, http.StatusOK}, {errors.New("store: writes fail: disk full"), http.StatusServiceUnavailable}} {
		s := &server.Server{Store: writeFailingStore{tc.err}, Log: slog.New(slog.DiscardHandler)}
		w := httptest.NewRecorder()
		s.AdminHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if w.Code != tc.want {
			t.Errorf("write health %v: /readyz %d, want %d", tc.err, w.Code, tc.want)
		}
	}
}
