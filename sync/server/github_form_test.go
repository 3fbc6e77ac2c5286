package server_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/coesync/coesync/connectors/github"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/server"
)

const ghSecret = "gh-form-secret"

func ghSign(body []byte) string {
	m := hmac.New(sha256.New, []byte(ghSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func ghSource() *server.Source {
	return server.GitHub(
		func(h string, body []byte) error { return github.VerifySignature([]byte(ghSecret), h, body) },
		func(event, delivery string, body []byte) (coe.GitHubIssueEvent, bool, error) {
			ev, err := github.DecodeIssuesEvent(event, delivery, body)
			if errors.Is(err, github.ErrPing) || errors.Is(err, github.ErrIgnoredEvent) {
				return ev, false, nil
			}
			return ev, err == nil, err
		})
}

// GitHub's default content type is application/x-www-form-urlencoded with
// the JSON in a payload field; the signature covers the form as sent.
func TestGitHubFormEncodedDelivery(t *testing.T) {
	payload, err := os.ReadFile("../../connectors/github/testdata/octokit-issues.opened.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	form := []byte(url.Values{"payload": {string(payload)}}.Encode())
	tests := []struct {
		name, contentType string
		body              []byte
		sig               string
		want              int
	}{
		{"form signed over the raw body", "application/x-www-form-urlencoded", form, ghSign(form), http.StatusAccepted},
		{"form signed over the payload only", "application/x-www-form-urlencoded", form, ghSign(payload), http.StatusUnauthorized},
		{"form without a payload field", "application/x-www-form-urlencoded", []byte("other=1"), ghSign([]byte("other=1")), http.StatusBadRequest},
		{"json still accepted", "application/json", payload, ghSign(payload), http.StatusAccepted},
		{"other type refused", "text/plain", payload, ghSign(payload), http.StatusUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer()
			s.Webhooks = map[string]*server.Source{"/webhooks/github": ghSource()}
			req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			req.Header.Set("X-Hub-Signature-256", tc.sig)
			req.Header.Set("X-GitHub-Event", "issues")
			req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d %s, want %d", rec.Code, strings.TrimSpace(rec.Body.String()), tc.want)
			}
			ds := s.Ingest.(*memIngest).ds
			if tc.want != http.StatusAccepted {
				if len(ds) != 0 {
					t.Errorf("stored %d deliveries, want none", len(ds))
				}
				return
			}
			if len(ds) != 1 || ds[0].EventType != "issues.opened" || !bytes.Equal(ds[0].Body, payload) {
				t.Fatalf("stored %+v, want one issues.opened delivery whose body is the JSON payload", ds)
			}
		})
	}
}
