package github_test

import (
	"crypto/hmac"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coesync/coesync/connectors/github"
)

func githubSamples(f *testing.F) [][]byte {
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

func FuzzDecodeIssuesEvent(f *testing.F) {
	for _, b := range githubSamples(f) {
		f.Add("issues", "d-1", b)
	}
	f.Add("ping", "d-2", []byte(`{"zen":"x","hook_id":1}`))
	f.Add("star", "d-3", []byte(`{}`))
	f.Add("issues", "", []byte(`{"action":"opened","repository":{"full_name":"a/b"},"issue":{"number":1}}`))
	f.Add("issues", "d-4", []byte(`{"action":"transferred","repository":{"full_name":"a/b"},"issue":{"number":1},"changes":{}}`))
	f.Add(" issues ", "d-5", []byte(strings.Repeat("[", 20000)))
	f.Fuzz(func(t *testing.T, event, delivery string, body []byte) {
		ev, err := github.DecodeIssuesEvent(event, delivery, body)
		if err != nil {
			if !errors.Is(err, github.ErrPing) && !errors.Is(err, github.ErrIgnoredEvent) && !errors.Is(err, github.ErrMalformed) {
				t.Fatalf("error %v is none of ErrPing, ErrIgnoredEvent, ErrMalformed", err)
			}
			return
		}
		if strings.TrimSpace(event) != "issues" {
			t.Fatalf("decoded an event of type %q", event)
		}
		if !slices.Contains(github.IssuesActions, ev.Action) {
			t.Fatalf("decoded action %q", ev.Action)
		}
		owner, name, ok := strings.Cut(ev.Repo, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			t.Fatalf("decoded repository %q", ev.Repo)
		}
		if ev.Issue.Number <= 0 || ev.Issue.Repo != ev.Repo {
			t.Fatalf("decoded issue %s#%d", ev.Issue.Repo, ev.Issue.Number)
		}
		if ev.Delivery != delivery {
			t.Fatalf("delivery %q, want %q", ev.Delivery, delivery)
		}
		if ev.Action == "transferred" && (ev.NewNumber <= 0 || ev.NewRepo == "") {
			t.Fatalf("transfer without destination: %+v", ev)
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	secret := []byte("fuzz-github-secret")
	for _, b := range githubSamples(f) {
		f.Add(sign(secret, b), b)
		f.Add(sign([]byte("other"), b), b)
		f.Add(strings.ToUpper(sign(secret, b)), b)
	}
	f.Add("", []byte(nil))
	f.Add("sha256=", []byte("x"))
	f.Add("sha1=abc, sha256=zz,,,", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := github.VerifySignature(secret, header, body)
		right := sign(secret, body)
		if err == nil && !strings.EqualFold(strings.TrimSpace(header), right) {
			t.Fatalf("VerifySignature accepted %q, not made with the secret", header)
		}
		if err != nil {
			if strings.EqualFold(strings.TrimSpace(header), right) {
				t.Fatalf("VerifySignature rejected the right signature %q: %v", header, err)
			}
			if !errors.Is(err, github.ErrNoSignature) && !errors.Is(err, github.ErrBadSignature) {
				t.Fatalf("error %v is neither ErrNoSignature nor ErrBadSignature", err)
			}
		}
		if github.VerifySignature(nil, header, body) == nil {
			t.Fatal("an empty secret verified a delivery")
		}
		if !hmac.Equal([]byte(right), []byte(sign(secret, body))) {
			t.Fatal("sign is not deterministic")
		}
	})
}
