package ghtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/github/ghtest"
)

type call struct {
	method, path, body, auth string
	header                   map[string]string
}

func do(t *testing.T, srv *ghtest.Server, c call) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, srv.URL()+strings.TrimPrefix(c.path, "/"), body)
	if err != nil {
		t.Fatal(err)
	}
	switch c.auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+srv.Token())
	case "none":
	default:
		req.Header.Set("Authorization", c.auth)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestEndpoints(t *testing.T) {
	srv := ghtest.New(ghtest.Options{MaxPerPage: 2})
	defer srv.Close()
	r := "/repos/" + ghtest.DefaultRepo
	for i := range 3 {
		resp, b := do(t, srv, call{method: "POST", path: r + "/issues", body: `{"title":"t` + strconv.Itoa(i) + `","labels":["coe",{"name":"x"}],"assignees":["alice"]}`})
		if resp.StatusCode != 201 || resp.Header.Get("Location") == "" {
			t.Fatalf("create: %d %s", resp.StatusCode, b)
		}
	}
	tok := srv.Token()
	tests := []struct {
		name   string
		c      call
		status int
		check  func(t *testing.T, resp *http.Response, body []byte)
	}{
		{"no auth", call{method: "GET", path: r + "/issues/1", auth: "none"}, 401, nil},
		{"wrong token", call{method: "GET", path: r + "/issues/1", auth: "Bearer nope"}, 401, nil},
		{"token scheme", call{method: "GET", path: r + "/issues/1", auth: "token " + tok}, 200, nil},
		{"basic scheme", call{method: "GET", path: r + "/issues/1", auth: "Basic " + tok}, 401, nil},
		{"unknown repo", call{method: "GET", path: "/repos/acme/nope/issues/1"}, 404, nil},
		{"unknown issue", call{method: "GET", path: r + "/issues/77"}, 404, nil},
		{"unknown endpoint", call{method: "GET", path: "/gists"}, 404, nil},
		{"get", call{method: "GET", path: r + "/issues/1"}, 200, func(t *testing.T, resp *http.Response, b []byte) {
			var is map[string]any
			if err := json.Unmarshal(b, &is); err != nil {
				t.Fatal(err)
			}
			if is["number"] != 1.0 || is["state"] != "open" || is["state_reason"] != nil || is["closed_at"] != nil ||
				!strings.HasSuffix(is["repository_url"].(string), r) || resp.Header.Get("ETag") == "" ||
				resp.Header.Get("X-RateLimit-Remaining") == "" || resp.Header.Get("X-RateLimit-Reset") == "" {
				t.Fatalf("%s %v", b, resp.Header)
			}
			labels := is["labels"].([]any)
			if len(labels) != 2 || labels[1].(map[string]any)["name"] != "x" {
				t.Fatalf("labels %v", labels)
			}
		}},
		{"patch close", call{method: "PATCH", path: r + "/issues/1", body: `{"state":"closed","state_reason":"not_planned"}`}, 200, func(t *testing.T, _ *http.Response, b []byte) {
			var is map[string]any
			_ = json.Unmarshal(b, &is)
			if is["state"] != "closed" || is["state_reason"] != "not_planned" || is["closed_at"] == nil || is["closed_by"] == nil {
				t.Fatalf("%s", b)
			}
		}},
		{"patch bad state", call{method: "PATCH", path: r + "/issues/1", body: `{"state":"done"}`}, 422, func(t *testing.T, _ *http.Response, b []byte) {
			if !strings.Contains(string(b), `"Validation Failed"`) {
				t.Fatalf("%s", b)
			}
		}},
		{"create without title", call{method: "POST", path: r + "/issues", body: `{"body":"x"}`}, 422, nil},
		{"create bad json", call{method: "POST", path: r + "/issues", body: `{`}, 400, nil},
		{"list page 1", call{method: "GET", path: r + "/issues?state=all&per_page=2"}, 200, func(t *testing.T, resp *http.Response, b []byte) {
			link := resp.Header.Get("Link")
			if !strings.Contains(link, `?page=2&per_page=2&state=all>; rel="next"`) || !strings.Contains(link, `rel="last"`) || strings.Contains(link, `rel="prev"`) {
				t.Fatalf("Link %q", link)
			}
			var list []any
			_ = json.Unmarshal(b, &list)
			if len(list) != 2 {
				t.Fatalf("%d issues", len(list))
			}
		}},
		{"list page 2", call{method: "GET", path: r + "/issues?state=all&per_page=2&page=2"}, 200, func(t *testing.T, resp *http.Response, b []byte) {
			link := resp.Header.Get("Link")
			if strings.Contains(link, `rel="next"`) || !strings.Contains(link, `rel="prev"`) || !strings.Contains(link, `rel="first"`) {
				t.Fatalf("Link %q", link)
			}
		}},
		{"list open only by default", call{method: "GET", path: r + "/issues"}, 200, func(t *testing.T, _ *http.Response, b []byte) {
			var list []map[string]any
			_ = json.Unmarshal(b, &list)
			if len(list) != 2 || list[0]["number"] != 3.0 { // desc by created
				t.Fatalf("%s", b)
			}
		}},
		{"list labels filter, per_page capped", call{method: "GET", path: r + "/issues?state=all&labels=COE,x&per_page=100"}, 200, func(t *testing.T, resp *http.Response, b []byte) {
			var list []any
			_ = json.Unmarshal(b, &list)
			if len(list) != 2 || !strings.Contains(resp.Header.Get("Link"), "per_page=2") {
				t.Fatalf("%d issues, Link %q", len(list), resp.Header.Get("Link"))
			}
		}},
		{"list labels filter, no match", call{method: "GET", path: r + "/issues?state=all&labels=coe,nope"}, 200, func(t *testing.T, _ *http.Response, b []byte) {
			if string(b) != "[]" {
				t.Fatalf("%s", b)
			}
		}},
		{"list bad state", call{method: "GET", path: r + "/issues?state=bogus"}, 422, nil},
		{"list bad since", call{method: "GET", path: r + "/issues?since=yesterday"}, 422, nil},
		{"list conditional wildcard", call{method: "GET", path: r + "/issues", header: map[string]string{"If-None-Match": "*"}}, 304, func(t *testing.T, resp *http.Response, b []byte) {
			if len(b) != 0 || resp.Header.Get("ETag") == "" {
				t.Fatalf("304 with body %q", b)
			}
		}},
		{"comment", call{method: "POST", path: r + "/issues/2/comments", body: `{"body":"hello"}`}, 201, nil},
		{"empty comment", call{method: "POST", path: r + "/issues/2/comments", body: `{"body":""}`}, 422, nil},
		{"list comments", call{method: "GET", path: r + "/issues/2/comments"}, 200, func(t *testing.T, _ *http.Response, b []byte) {
			var list []map[string]any
			_ = json.Unmarshal(b, &list)
			if len(list) != 1 || list[0]["body"] != "hello" || list[0]["user"].(map[string]any)["login"] != ghtest.DefaultLogin {
				t.Fatalf("%s", b)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, srv, tt.c)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if tt.status >= 400 && !strings.Contains(string(b), `"message"`) {
				t.Fatalf("error body %s", b)
			}
			if tt.check != nil {
				tt.check(t, resp, b)
			}
		})
	}

	// Comment edit through PATCH /repos/{o}/{r}/issues/comments/{id}.
	id := srv.Issues(ghtest.DefaultRepo)[1].Comments[0].ID
	resp, b := do(t, srv, call{method: "PATCH", path: r + "/issues/comments/" + strconv.FormatInt(id, 10), body: `{"body":"edited"}`})
	if resp.StatusCode != 200 || srv.Issues(ghtest.DefaultRepo)[1].Comments[0].Body != "edited" {
		t.Fatalf("edit comment: %d %s", resp.StatusCode, b)
	}
	if n := srv.Count("PATCH", r+"/issues/comments/"); n != 1 {
		t.Fatalf("Count = %d", n)
	}
}

func TestConditionalGetAndQuota(t *testing.T) {
	srv := ghtest.New(ghtest.Options{Quota: 10})
	defer srv.Close()
	r := "/repos/" + ghtest.DefaultRepo
	do(t, srv, call{method: "POST", path: r + "/issues", body: `{"title":"t"}`})
	resp, _ := do(t, srv, call{method: "GET", path: r + "/issues/1"})
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || resp.Header.Get("X-RateLimit-Remaining") != "8" {
		t.Fatalf("etag %q remaining %q", etag, resp.Header.Get("X-RateLimit-Remaining"))
	}
	resp, _ = do(t, srv, call{method: "GET", path: r + "/issues/1", header: map[string]string{"If-None-Match": etag}})
	if resp.StatusCode != 304 || resp.Header.Get("X-RateLimit-Remaining") != "8" {
		t.Fatalf("conditional: %d remaining %s", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
	if err := srv.EditTitle(ghtest.DefaultRepo, 1, "changed"); err != nil {
		t.Fatal(err)
	}
	resp, _ = do(t, srv, call{method: "GET", path: r + "/issues/1", header: map[string]string{"If-None-Match": etag}})
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Fatalf("after change: %d", resp.StatusCode)
	}
	reset := time.Now().Add(time.Minute).Truncate(time.Second)
	srv.Quota(0, reset)
	resp, b := do(t, srv, call{method: "GET", path: r + "/issues/1"})
	if resp.StatusCode != 403 || resp.Header.Get("X-RateLimit-Remaining") != "0" ||
		resp.Header.Get("X-RateLimit-Reset") != strconv.FormatInt(reset.Unix(), 10) || !strings.Contains(string(b), "rate limit") {
		t.Fatalf("exhausted: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Status != 403 || reqs[2].Status != 304 || !reqs[2].Conditional || reqs[1].Conditional {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestDeletedAndTransferred(t *testing.T) {
	srv := ghtest.New(ghtest.Options{})
	defer srv.Close()
	r := "/repos/" + ghtest.DefaultRepo
	do(t, srv, call{method: "POST", path: r + "/issues", body: `{"title":"a"}`})
	do(t, srv, call{method: "POST", path: r + "/issues", body: `{"title":"b"}`})
	if err := srv.Delete(ghtest.DefaultRepo, 1); err != nil {
		t.Fatal(err)
	}
	n, err := srv.Transfer(ghtest.DefaultRepo, 2, "acme/other")
	if err != nil || n != 1 {
		t.Fatalf("transfer: %d %v", n, err)
	}
	if err := srv.EditTitle(ghtest.DefaultRepo, 2, "x"); err == nil {
		t.Fatal("edit of a transferred issue at its old location succeeded")
	}
	resp, b := do(t, srv, call{method: "GET", path: r + "/issues/1"})
	if resp.StatusCode != 410 || !strings.Contains(string(b), "deleted") {
		t.Fatalf("deleted: %d %s", resp.StatusCode, b)
	}
	for _, m := range []string{"GET", "PATCH"} {
		resp, _ = do(t, srv, call{method: m, path: r + "/issues/2", body: `{}`})
		loc := resp.Header.Get("Location")
		if resp.StatusCode != 301 || !strings.Contains(loc, "/repositories/") || !strings.HasSuffix(loc, "/issues/1") {
			t.Fatalf("%s transferred: %d %q", m, resp.StatusCode, loc)
		}
		resp, b = do(t, srv, call{method: "GET", path: strings.TrimPrefix(loc, srv.URL())})
		var is map[string]any
		_ = json.Unmarshal(b, &is)
		if resp.StatusCode != 200 || !strings.HasSuffix(is["repository_url"].(string), "/repos/acme/other") || is["title"] != "b" {
			t.Fatalf("new location: %d %s", resp.StatusCode, b)
		}
	}
	if got := srv.Issues(ghtest.DefaultRepo); len(got) != 0 {
		t.Fatalf("old repo still lists %+v", got)
	}
	if got := srv.Issues("acme/other"); len(got) != 1 || got[0].Title != "b" {
		t.Fatalf("new repo lists %+v", got)
	}
}

func TestFaultInjection(t *testing.T) {
	srv := ghtest.New(ghtest.Options{})
	defer srv.Close()
	p := "/repos/" + ghtest.DefaultRepo + "/issues"

	srv.FailNext(2, 503, 3*time.Second)
	for range 2 {
		resp, _ := do(t, srv, call{method: "GET", path: p})
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "3" {
			t.Fatalf("FailNext: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if resp, _ := do(t, srv, call{method: "GET", path: p}); resp.StatusCode != 200 {
		t.Fatalf("after FailNext: %d", resp.StatusCode)
	}

	srv.SetFaultRate(0.5, 0.25, 7)
	counts := map[int]int{}
	for range 200 {
		resp, _ := do(t, srv, call{method: "GET", path: p})
		counts[resp.StatusCode]++
	}
	if counts[500] < 60 || counts[429] < 25 || counts[200] < 25 {
		t.Fatalf("fault rate counts %v", counts)
	}
	srv.SetFaultRate(0, 0, 0)

	srv.RateLimit(1)
	var limited int
	for range 5 {
		resp, _ := do(t, srv, call{method: "GET", path: p})
		if resp.StatusCode == 403 && resp.Header.Get("Retry-After") != "" {
			limited++
		}
	}
	if limited < 3 {
		t.Fatalf("%d of 5 limited", limited)
	}
	srv.RateLimit(0)

	srv.Latency(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL()+strings.TrimPrefix(p, "/"), nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token())
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("latency not applied")
	}
}
