package jira_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/sync/coe"
)

func jiraSamples(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no testdata samples: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzDecodeWebhook(f *testing.F) {
	for _, b := range jiraSamples(f) {
		f.Add("d-1", b)
	}
	f.Add("", []byte(`{"webhookEvent":"jira:issue_created","issue":{"key":"OPS-1","fields":{"parent":{"key":"OPS-0"},"labels":["a"]}}}`))
	f.Add("d", []byte(`{"webhookEvent":"comment_created"}`))
	f.Add("d", []byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"A-1"},"changelog":{"items":[{"field":" Status "},{"fieldId":"status"}]}}`))
	f.Add("d", []byte(`{"timestamp":-1,"webhookEvent":"jira:issue_deleted","issue":{"key":"A-1"}}`))
	f.Add("d", []byte(strings.Repeat("[", 20000)))
	f.Fuzz(func(t *testing.T, delivery string, body []byte) {
		ev, err := jira.DecodeWebhook(delivery, body)
		if err != nil {
			if !errors.Is(err, jira.ErrIgnoredEvent) && !errors.Is(err, jira.ErrMalformed) {
				t.Fatalf("error %v is neither ErrIgnoredEvent nor ErrMalformed", err)
			}
			return
		}
		if ev.Key == "" {
			t.Fatalf("accepted an event without issue key: %+v", ev)
		}
		switch ev.Kind {
		case coe.JiraEventCreated, coe.JiraEventUpdated, coe.JiraEventDeleted:
		default:
			t.Fatalf("accepted kind %q", ev.Kind)
		}
		if ev.ID != delivery {
			t.Fatalf("ID %q, want %q", ev.ID, delivery)
		}
		seen := map[string]bool{}
		for _, c := range ev.Changed {
			if c == "" || seen[c] {
				t.Fatalf("changed fields %q: empty or repeated", ev.Changed)
			}
			seen[c] = true
		}
	})
}

func FuzzVerifyWebhook(f *testing.F) {
	secret := []byte("fuzz-jira-secret")
	for _, b := range jiraSamples(f) {
		f.Add(jira.Sign(secret, b), "", b)
		f.Add(jira.Sign([]byte("other"), b), "", b)
		f.Add("", string(secret), b)
		f.Add("", "fuzz-jira-secre", b)
		f.Add(jira.Sign([]byte("other"), b), string(secret), b)
	}
	f.Add("", "", []byte(nil))
	f.Add("sha256=zz,,, sha1=", "x", []byte("{}"))
	f.Fuzz(func(t *testing.T, header, query string, body []byte) {
		err := jira.VerifyWebhook(secret, header, query, body)
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		right := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		signed := strings.EqualFold(strings.TrimSpace(header), right)
		if err == nil && !signed && query != string(secret) {
			t.Fatalf("VerifyWebhook accepted header %q, query %q: neither made with the secret", header, query)
		}
		if err != nil && (signed || query == string(secret)) {
			t.Fatalf("VerifyWebhook rejected header %q, query %q: %v", header, query, err)
		}
		if err != nil && !errors.Is(err, jira.ErrNoSignature) && !errors.Is(err, jira.ErrBadSignature) && !errors.Is(err, jira.ErrBadSecret) {
			t.Fatalf("unexpected error %v", err)
		}
		if jira.VerifyWebhook(nil, header, query, body) == nil {
			t.Fatal("an empty secret verified a delivery")
		}
	})
}
