package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coesync/coesync/sync/metrics"
	"github.com/coesync/coesync/sync/server"
	"github.com/coesync/coesync/sync/store"
)

const testSecret = "test-secret"

// sign is the signature header testSource accepts for body.
func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// testSource verifies X-Test-Signature (HMAC-SHA256 of the body) and takes
// the delivery id from X-Test-Delivery.
func testSource() *server.Source {
	return &server.Source{
		Name:            "test",
		SignatureHeader: "X-Test-Signature",
		Verify: func(r *http.Request, body []byte) error {
			if !hmac.Equal([]byte(r.Header.Get("X-Test-Signature")), []byte(sign(body))) {
				return errors.New("bad signature")
			}
			return nil
		},
		Parse: func(r *http.Request, _ []byte) (store.Delivery, error) {
			return store.Delivery{ID: r.Header.Get("X-Test-Delivery"), EventType: "test"}, nil
		},
	}
}

// memIngest records the deliveries submitted.
type memIngest struct {
	mu  sync.Mutex
	ids []string
	ds  []store.Delivery
}

func (m *memIngest) Submit(_ context.Context, d store.Delivery) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ids = append(m.ids, d.ID)
	m.ds = append(m.ds, d)
	return false, nil
}

type okPinger struct{}

func (okPinger) Ping(context.Context) error { return nil }

func testServer() *server.Server {
	return &server.Server{
		Webhooks: map[string]*server.Source{"/webhooks/test": testSource()},
		Ingest:   &memIngest{},
		Store:    okPinger{},
		Metrics:  metrics.New(),
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func get(t *testing.T, url, auth string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// The webhook listener faces the internet: it serves the webhooks and
// /healthz and nothing that shows incident data or internals.
func TestWebhookListenerServesNoAdminPaths(t *testing.T) {
	s := testServer()
	hooks := httptest.NewServer(s.Handler())
	defer hooks.Close()
	admin := httptest.NewServer(s.AdminHandler())
	defer admin.Close()
	for _, path := range []string{"/metrics", "/readyz", "/report", "/"} {
		if code := get(t, hooks.URL+path, ""); code != http.StatusNotFound {
			t.Errorf("webhook listener: GET %s = %d, want 404", path, code)
		}
	}
	for _, path := range []string{"/metrics", "/readyz", "/healthz"} {
		if code := get(t, admin.URL+path, ""); code != http.StatusOK {
			t.Errorf("admin listener: GET %s = %d, want 200", path, code)
		}
	}
	if code := get(t, hooks.URL+"/healthz", ""); code != http.StatusOK {
		t.Errorf("webhook listener: GET /healthz = %d, want 200", code)
	}
	body := `{"x":1}`
	req, _ := http.NewRequest(http.MethodPost, hooks.URL+"/webhooks/test", strings.NewReader(body))
	req.Header.Set("X-Test-Signature", sign([]byte(body)))
	req.Header.Set("X-Test-Delivery", "d1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("signed delivery on the webhook listener = %d, want 202", resp.StatusCode)
	}
	if code := get(t, admin.URL+"/webhooks/test", ""); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		t.Errorf("admin listener serves the webhook: %d", code)
	}
}

// With COESYNC_ADMIN_TOKEN the admin listener answers only requests that
// carry it as a bearer token, but for the probes.
func TestAdminTokenRequired(t *testing.T) {
	s := testServer()
	s.AdminToken = "admin-s3cret"
	admin := httptest.NewServer(s.AdminHandler())
	defer admin.Close()
	tests := []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Bearer admin-s3cre", http.StatusUnauthorized},
		{"Bearer admin-s3cret-and-more", http.StatusUnauthorized},
		{"Basic admin-s3cret", http.StatusUnauthorized},
		{"admin-s3cret", http.StatusUnauthorized},
		{"Bearer admin-s3cret", http.StatusOK},
	}
	for _, path := range []string{"/metrics", "/nope"} {
		for _, tc := range tests {
			want := tc.want
			if path == "/nope" && want == http.StatusOK {
				want = http.StatusNotFound
			}
			if code := get(t, admin.URL+path, tc.auth); code != want {
				t.Errorf("GET %s with Authorization %q = %d, want %d", path, tc.auth, code, want)
			}
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code := get(t, admin.URL+path, ""); code != http.StatusOK {
			t.Errorf("probe GET %s without a token = %d, want 200", path, code)
		}
	}
}
