package jiratest

import (
	"net/http"
	"strings"
	"testing"
)

// The fake refuses what Jira refuses: a summary over 255 characters, and a
// description or comment over 32,767 Java characters (UTF-16 code units:
// an emoji counts two), with Jira's 400 error collection.
func TestTextLimits(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	// 32,765 + one emoji (2 units) = 32,767 units.
	text := strings.Repeat("a", maxText-2) + "🙂"
	long := text + "a"
	withDesc := func(summary, desc string) map[string]any {
		f := task(summary)
		f["description"] = desc
		return f
	}
	key := create(t, s, withDesc(strings.Repeat("é", 255), text))
	r := do(t, s, "POST", "/rest/api/2/issue/"+key+"/comment", map[string]string{"body": text})
	var c struct{ ID string }
	r.json(t, &c)
	if r.status != http.StatusCreated {
		t.Fatalf("comment at the limit: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		field, msg         string
	}{
		{"create summary", "POST", "/rest/api/2/issue", map[string]any{"fields": task(strings.Repeat("é", 256))}, "summary", "Summary must be less than 255 characters."},
		{"create description", "POST", "/rest/api/2/issue", map[string]any{"fields": withDesc("x", long)}, "description", msgTextTooLong},
		{"edit description", "PUT", "/rest/api/2/issue/" + key, map[string]any{"fields": map[string]any{"description": long}}, "description", msgTextTooLong},
		{"add comment", "POST", "/rest/api/2/issue/" + key + "/comment", map[string]string{"body": long}, "comment", msgTextTooLong},
		{"edit comment", "PUT", "/rest/api/2/issue/" + key + "/comment/" + c.ID, map[string]string{"body": long}, "comment", msgTextTooLong},
	} {
		r := do(t, s, tc.method, tc.path, tc.body)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", tc.name, r.status, r.body)
			continue
		}
		if _, fields := r.errs(t); fields[tc.field] != tc.msg {
			t.Errorf("%s: errors %v, want %s: %q", tc.name, fields, tc.field, tc.msg)
		}
	}
	is, _ := s.Issue(key)
	if is.Description != text || len(is.Comments) != 1 || is.Comments[0].Body != text {
		t.Error("a refused write changed the issue")
	}
}
