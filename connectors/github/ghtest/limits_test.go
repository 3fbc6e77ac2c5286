package ghtest_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/coesync/coesync/connectors/github/ghtest"
)

// The fake refuses what GitHub refuses: a title over 256 characters and an
// issue or comment body over 65,536, with GitHub's 422 validation body.
func TestTextLimits(t *testing.T) {
	srv := ghtest.New(ghtest.Options{})
	defer srv.Close()
	r := "/repos/" + ghtest.DefaultRepo
	js := func(fields ...string) string {
		m := map[string]string{}
		for i := 0; i < len(fields); i += 2 {
			m[fields[i]] = fields[i+1]
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	// "é" is one character: limits count characters, not bytes.
	title, longTitle := strings.Repeat("é", 256), strings.Repeat("é", 257)
	body, longBody := strings.Repeat("é", 65536), strings.Repeat("é", 65537)
	if resp, b := do(t, srv, call{method: "POST", path: r + "/issues", body: js("title", title, "body", body)}); resp.StatusCode != 201 {
		t.Fatalf("at the limits: %d %s", resp.StatusCode, b)
	}
	resp, b := do(t, srv, call{method: "POST", path: r + "/issues/1/comments", body: js("body", body)})
	var com struct {
		ID int64 `json:"id"`
	}
	if resp.StatusCode != 201 || json.Unmarshal(b, &com) != nil {
		t.Fatalf("comment at the limit: %d %s", resp.StatusCode, b)
	}
	for _, tc := range []struct {
		name, method, path, body, resource, field, message string
	}{
		{"create title", "POST", r + "/issues", js("title", longTitle), "Issue", "title", "title is too long (maximum is 256 characters)"},
		{"create body", "POST", r + "/issues", js("title", "t", "body", longBody), "Issue", "body", "body is too long (maximum is 65536 characters)"},
		{"edit title", "PATCH", r + "/issues/1", js("title", longTitle), "Issue", "title", "title is too long (maximum is 256 characters)"},
		{"edit body", "PATCH", r + "/issues/1", js("body", longBody), "Issue", "body", "body is too long (maximum is 65536 characters)"},
		{"comment", "POST", r + "/issues/1/comments", js("body", longBody), "IssueComment", "body", "body is too long (maximum is 65536 characters)"},
		{"edit comment", "PATCH", r + "/issues/comments/" + strconv.FormatInt(com.ID, 10), js("body", longBody), "IssueComment", "body", "body is too long (maximum is 65536 characters)"},
	} {
		resp, b := do(t, srv, call{method: tc.method, path: tc.path, body: tc.body})
		var out struct {
			Message string              `json:"message"`
			Errors  []map[string]string `json:"errors"`
		}
		if resp.StatusCode != 422 || json.Unmarshal(b, &out) != nil || out.Message != "Validation Failed" || len(out.Errors) != 1 ||
			out.Errors[0]["resource"] != tc.resource || out.Errors[0]["field"] != tc.field || out.Errors[0]["code"] != "custom" ||
			out.Errors[0]["message"] != tc.message {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
	}
	is, _ := srv.Issue(ghtest.DefaultRepo, 1)
	if is.Title != title || is.Body != body || len(is.Comments) != 1 {
		t.Error("a refused edit changed the issue")
	}
}
