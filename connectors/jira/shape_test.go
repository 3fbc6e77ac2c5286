package jira_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/sync/coe"
)

// wireIssue is the part of Jira's issue bean that coesync reads, typed the
// way real Jira sends it: decoding fails when a field has another JSON type.
type wireIssue struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Self   string `json:"self"`
	Fields struct {
		Summary     string   `json:"summary"`
		Description *string  `json:"description"`
		Labels      []string `json:"labels"`
		Status      struct {
			ID             string `json:"id"`
			Name           string `json:"name"`
			StatusCategory struct {
				ID        int    `json:"id"`
				Key       string `json:"key"`
				Name      string `json:"name"`
				ColorName string `json:"colorName"`
			} `json:"statusCategory"`
		} `json:"status"`
		IssueType struct {
			ID             string `json:"id"`
			Name           string `json:"name"`
			Subtask        bool   `json:"subtask"`
			HierarchyLevel int    `json:"hierarchyLevel"`
		} `json:"issuetype"`
		Parent   *linkedIssue  `json:"parent"`
		Subtasks []linkedIssue `json:"subtasks"`
		Assignee *struct {
			AccountID   string `json:"accountId"`
			DisplayName string `json:"displayName"`
			Active      bool   `json:"active"`
		} `json:"assignee"`
		DueDate  *string `json:"duedate"`
		Priority struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"priority"`
		Updated string `json:"updated"`
		Created string `json:"created"`
		Project struct {
			ID   string `json:"id"`
			Key  string `json:"key"`
			Name string `json:"name"`
		} `json:"project"`
		Components []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"components"`
		Resolution *struct {
			Name string `json:"name"`
		} `json:"resolution"`
	} `json:"fields"`
}

type linkedIssue struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Summary string `json:"summary"`
		Status  struct {
			Name string `json:"name"`
		} `json:"status"`
	} `json:"fields"`
}

const jiraTimeLayout = "2006-01-02T15:04:05.000-0700"

func webhookIssues(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no webhook captures in testdata: %v", err)
	}
	out := map[string]json.RawMessage{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			WebhookEvent string          `json:"webhookEvent"`
			Issue        json.RawMessage `json:"issue"`
		}
		if err := json.Unmarshal(b, &env); err != nil || len(env.Issue) == 0 {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = env.Issue
	}
	return out
}

func fakeIssue(t *testing.T) json.RawMessage {
	t.Helper()
	srv, c := setup(t, jiratest.Options{Location: time.FixedZone("IST", 5*3600+1800)})
	ctx := context.Background()
	parent, err := c.CreateTicket(ctx, coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: "COE", Labels: []string{"coe"}, Components: []string{"db"}, Priority: "High"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.CreateSubtask(ctx, parent.Key, coe.TicketSpec{Summary: "action", Description: "do it"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Edit(sub.Key, func(i *jiratest.Issue) { i.Assignee = "acc-1"; i.DueDate = "2025-01-31" })
	get := func(key string) json.RawMessage {
		req, _ := http.NewRequest("GET", srv.URL+"/rest/api/2/issue/"+key, nil)
		req.SetBasicAuth(jiratest.DefaultUser, jiratest.DefaultToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", key, res.StatusCode, b)
		}
		return b
	}
	// The parent's subtasks list and the sub-task's parent must both be
	// well-formed; return the sub-task, which has every optional field set.
	var p wireIssue
	if err := json.Unmarshal(get(parent.Key), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Fields.Subtasks) != 1 || p.Fields.Subtasks[0].Key != sub.Key || p.Fields.Subtasks[0].Fields.Status.Name != "To Do" {
		t.Fatalf("parent subtasks %+v", p.Fields.Subtasks)
	}
	return get(sub.Key)
}

// The fake's GET issue has the field shapes of a real Jira Cloud issue
// (captured in webhook payloads, copied from shared/contracts/jira/webhooks).
func TestFakeIssueMatchesRealJiraShapes(t *testing.T) {
	fake := fakeIssue(t)
	var f wireIssue
	if err := json.Unmarshal(fake, &f); err != nil {
		t.Fatalf("fake issue does not decode: %v", err)
	}
	if f.Fields.Parent == nil || f.Fields.Assignee == nil || f.Fields.DueDate == nil || f.Fields.Description == nil || !f.Fields.IssueType.Subtask {
		t.Fatalf("fake sub-task lacks fields: %+v", f.Fields)
	}

	for name, real := range webhookIssues(t) {
		t.Run(name, func(t *testing.T) {
			var w wireIssue
			if err := json.Unmarshal(real, &w); err != nil {
				t.Fatalf("real issue does not decode into the struct the fake is checked with: %v", err)
			}
			if w.Key == "" || w.Fields.Status.StatusCategory.Key == "" || w.Fields.IssueType.Name == "" {
				t.Fatalf("real issue decoded empty: %+v", w)
			}
			for _, ts := range []string{w.Fields.Created, w.Fields.Updated, f.Fields.Created, f.Fields.Updated} {
				if _, err := time.Parse(jiraTimeLayout, ts); err != nil {
					t.Fatalf("timestamp %q: %v", ts, err)
				}
			}
			// Every field both send has the same JSON type, recursively.
			var rf, ff struct {
				Fields map[string]any `json:"fields"`
			}
			_ = json.Unmarshal(real, &rf)
			_ = json.Unmarshal(fake, &ff)
			shared := 0
			for k, rv := range rf.Fields {
				if fv, ok := ff.Fields[k]; ok {
					shared++
					sameShape(t, "fields."+k, rv, fv)
				}
			}
			for _, k := range []string{"summary", "description", "labels", "status", "issuetype", "subtasks", "assignee", "duedate", "priority", "updated", "created", "project", "components", "resolution"} {
				if _, ok := rf.Fields[k]; !ok {
					t.Errorf("real capture lacks %q", k)
				}
				if _, ok := ff.Fields[k]; !ok {
					t.Errorf("fake lacks %q", k)
				}
			}
			if shared < 14 {
				t.Fatalf("only %d fields in common", shared)
			}
		})
	}
}

// sameShape compares JSON types; null matches anything (optional values),
// and for objects only keys present in both are compared.
func sameShape(t *testing.T, path string, real, fake any) {
	t.Helper()
	if real == nil || fake == nil {
		return
	}
	switch r := real.(type) {
	case map[string]any:
		f, ok := fake.(map[string]any)
		if !ok {
			t.Errorf("%s: real is an object, fake %T", path, fake)
			return
		}
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if fv, ok := f[k]; ok {
				sameShape(t, path+"."+k, r[k], fv)
			}
		}
	case []any:
		f, ok := fake.([]any)
		if !ok {
			t.Errorf("%s: real is an array, fake %T", path, fake)
			return
		}
		if len(r) > 0 && len(f) > 0 {
			sameShape(t, path+"[0]", r[0], f[0])
		}
	default:
		if kind(real) != kind(fake) {
			t.Errorf("%s: real %s (%v), fake %s (%v)", path, kind(real), real, kind(fake), fake)
		}
	}
}

func kind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "other"
}

// go-jira decodes both the real capture and the fake (its Time type is
// strict about Jira's timestamp format).
func TestGoJiraDecodesFakeAndReal(t *testing.T) {
	all := map[string]json.RawMessage{"fake": fakeIssue(t)}
	for k, v := range webhookIssues(t) {
		all[k] = v
	}
	for name, raw := range all {
		var is gojira.Issue
		if err := json.Unmarshal(raw, &is); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if is.Fields == nil || is.Fields.Status == nil || time.Time(is.Fields.Created).IsZero() || strings.TrimSpace(is.Fields.Summary) == "" {
			t.Fatalf("%s decoded as %+v", name, is.Fields)
		}
	}
}
