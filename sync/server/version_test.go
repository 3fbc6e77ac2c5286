package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coesync/coesync/sync/version"
)

func TestVersionAnswersTheBuildAsJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	(&Server{}).AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/version", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /version: %d", rec.Code)
	}
	// It tells what runs: not for the webhook listener.
	pub := httptest.NewRecorder()
	(&Server{}).Handler().ServeHTTP(pub, httptest.NewRequest(http.MethodGet, "/version", nil))
	if pub.Code != http.StatusNotFound {
		t.Errorf("GET /version on the webhook listener: %d, want 404", pub.Code)
	}
	var got version.Info
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, rec.Body.String())
	}
	if got != version.Get() || got.Version == "" {
		t.Errorf("GET /version = %+v, want %+v", got, version.Get())
	}
}
