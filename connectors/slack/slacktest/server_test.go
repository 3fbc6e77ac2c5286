package slacktest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, method, url, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestServerAnswersLikeSlack(t *testing.T) {
	s := New()
	defer s.Close()
	if !strings.Contains(s.URL(), "/services/T") || !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
	manyBlocks := `{"blocks":[` + strings.TrimSuffix(strings.Repeat(`{"type":"divider"},`, MaxBlocks+1), ",") + `]}`
	long := strings.Repeat("é", MaxTextChars+1)
	for _, tc := range []struct {
		name, method, url, body string
		status                  int
		answer                  string
	}{
		{"text", "POST", s.URL(), `{"text":"hello"}`, 200, "ok"},
		{"blocks", "POST", s.URL(), `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]}`, 200, "ok"},
		{"not JSON", "POST", s.URL(), `text=hello`, 400, "invalid_payload"},
		{"not an object", "POST", s.URL(), `["hello"]`, 400, "invalid_payload"},
		{"no text", "POST", s.URL(), `{"username":"x"}`, 400, "no_text"},
		{"empty text", "POST", s.URL(), `{"text":""}`, 400, "no_text"},
		{"too many blocks", "POST", s.URL(), manyBlocks, 400, "invalid_blocks"},
		{"block without type", "POST", s.URL(), `{"blocks":[{"text":{"type":"mrkdwn","text":"x"}}]}`, 400, "invalid_blocks"},
		{"text too long", "POST", s.URL(), `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"` + long + `"}}]}`, 400, "invalid_blocks"},
		{"header too long", "POST", s.URL(), `{"blocks":[{"type":"header","text":{"type":"plain_text","text":"` + long[:2*(MaxHeaderChars+1)] + `"}}]}`, 400, "invalid_blocks"},
		{"other path", "POST", s.URL() + "x", `{"text":"hello"}`, 404, "no_service"},
		{"GET", "GET", s.URL(), ``, 405, "invalid_method"},
	} {
		status, answer, _ := do(t, tc.method, tc.url, tc.body)
		if status != tc.status || answer != tc.answer {
			t.Errorf("%s: %d %q, want %d %q", tc.name, status, answer, tc.status, tc.answer)
		}
	}
	posts := s.Posts()
	if len(posts) != 2 || string(posts[0]) != `{"text":"hello"}` {
		t.Fatalf("posts %q, want the two accepted ones", posts)
	}
	posts[0][0] = 'X' // a copy
	if string(s.Posts()[0]) != `{"text":"hello"}` {
		t.Error("Posts returns the server's own slices")
	}
	if s.Attempts() != 12 {
		t.Errorf("%d attempts, want 12", s.Attempts())
	}
}

func TestServerFailNext(t *testing.T) {
	s := New()
	defer s.Close()
	s.FailNext(2, http.StatusTooManyRequests, 1500*time.Millisecond)
	for range 2 {
		status, answer, h := do(t, "POST", s.URL(), `{"text":"x"}`)
		if status != 429 || answer != "rate_limited" || h.Get("Retry-After") != "2" {
			t.Fatalf("%d %q Retry-After %q, want 429 rate_limited 2", status, answer, h.Get("Retry-After"))
		}
	}
	if status, _, _ := do(t, "POST", s.URL(), `{"text":"x"}`); status != 200 {
		t.Fatalf("after the failures: %d", status)
	}
	s.FailNext(1, http.StatusServiceUnavailable, 0)
	if status, answer, h := do(t, "POST", s.URL(), `{"text":"x"}`); status != 503 || answer != "service_unavailable" || h.Get("Retry-After") != "" {
		t.Fatalf("%d %q %q", status, answer, h.Get("Retry-After"))
	}
	if n := len(s.Posts()); n != 1 {
		t.Errorf("%d posts, want the one accepted", n)
	}
}
