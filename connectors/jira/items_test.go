package jira_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

const actionLabel = "coe-action-item"

func mustSubtask(t testing.TB, c *jira.Client, parent, summary string, labels ...string) coe.TicketRef {
	t.Helper()
	ref, err := c.CreateSubtask(context.Background(), parent, coe.TicketSpec{Summary: summary, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func itemKeys(items []coe.JiraItem) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.Key)
	}
	return out
}

// searchBodies returns the bodies of the POST /search/jql requests.
func searchBodies(t *testing.T, srv *jiratest.Server) []struct {
	JQL             string  `json:"jql"`
	ReconcileIssues []int64 `json:"reconcileIssues"`
} {
	t.Helper()
	var out []struct {
		JQL             string  `json:"jql"`
		ReconcileIssues []int64 `json:"reconcileIssues"`
	}
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/rest/api/2/search/jql" {
			var b struct {
				JQL             string  `json:"jql"`
				ReconcileIssues []int64 `json:"reconcileIssues"`
			}
			if err := json.Unmarshal([]byte(r.Body), &b); err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

func TestGetItem(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	srv, c := setup(t, jiratest.Options{Now: clk.Now, StatusCategories: map[string]string{"Closed": jiratest.CategoryDone}})
	t0 := clk.Now()
	parent := mustCreate(t, c, spec("COE: db down", "coe"))
	sub, err := c.CreateSubtask(ctx, parent.Key, coe.TicketSpec{Summary: "Add alert", Labels: []string{actionLabel, "db"}, Priority: "High"})
	if err != nil {
		t.Fatal(err)
	}
	other := mustCreate(t, c, spec("Related fix", actionLabel))
	clk.Add(time.Hour)
	srv.Assign(sub.Key, "acc-1", "ana@example.com", "Ana Alves")
	srv.SetDue(sub.Key, "2026-12-01")
	srv.Link(sub.Key, other.Key, "Blocks")
	srv.Link(parent.Key, sub.Key, "Relates")
	clk.Add(time.Minute)
	srv.SetStatus(other.Key, "Closed") // a done-category status not called Done
	t1 := clk.Now()

	tests := []struct {
		name   string
		key    string
		want   coe.JiraItem
		status int // of the error; 0 for success
	}{
		{
			name: "sub-task with every field",
			key:  sub.Key,
			want: coe.JiraItem{
				ID: sub.ID, Key: sub.Key, URL: srv.URL + "/browse/" + sub.Key, Project: "OPS", IssueType: "Sub-task", Subtask: true,
				Summary: "Add alert", Status: "To Do", Category: "new", AssigneeID: "acc-1", AssigneeEmail: "ana@example.com", AssigneeName: "Ana Alves",
				Due: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Priority: "High", Labels: []string{actionLabel, "db"}, Parent: parent.Key,
				Links:   []coe.JiraLink{{Type: "Blocks", Key: other.Key, Outward: true}, {Type: "Relates", Key: parent.Key}},
				Created: t0, Updated: t0.Add(time.Hour),
			},
		},
		{
			name: "done status category, inward link",
			key:  strings.ToLower(other.Key),
			want: coe.JiraItem{
				ID: other.ID, Key: other.Key, URL: srv.URL + "/browse/" + other.Key, Project: "OPS", IssueType: "Task",
				Summary: "Related fix", Status: "Closed", Done: true, Category: "done", Priority: "Medium", Labels: []string{actionLabel},
				Links:   []coe.JiraLink{{Type: "Blocks", Key: sub.Key}},
				Created: t0, Updated: t1,
			},
		},
		{
			name: "no labels, no links, nothing due",
			key:  parent.Key,
			want: coe.JiraItem{
				ID: parent.ID, Key: parent.Key, URL: srv.URL + "/browse/" + parent.Key, Project: "OPS", IssueType: "Task",
				Summary: "COE: db down", Status: "To Do", Category: "new", Priority: "Medium", Labels: []string{"coe"},
				Links:   []coe.JiraLink{{Type: "Relates", Key: sub.Key, Outward: true}},
				Created: t0, Updated: t0.Add(time.Hour),
			},
		},
		{name: "missing issue", key: "OPS-99", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.GetItem(ctx, tt.key)
			if tt.status != 0 {
				var e *engine.Error
				if !errors.As(err, &e) || e.Kind != engine.Permanent || e.Status != tt.status {
					t.Fatalf("err %v, want permanent %d", err, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}

	srv.ResetRequests()
	if _, err := c.GetItem(ctx, "OPS-1/../x"); err == nil || srv.Count("", "/") != 0 {
		t.Fatalf("invalid key: %v, %d requests", err, srv.Count("", "/"))
	} else if k, _ := engine.Classify(err); k != engine.Permanent {
		t.Fatalf("invalid key: %v", err)
	}
}

// A sub-task created a moment ago is listed at once although search lags:
// the list comes from the parent's subtasks field and the details from a
// reconciled search, in two calls.
func TestSubtasksAreStronglyConsistent(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 3, 60} {
		t.Run(fmt.Sprint(n, " sub-tasks"), func(t *testing.T) {
			clk := newClock()
			srv, c := setup(t, jiratest.Options{Now: clk.Now, SearchLag: time.Hour})
			parent := mustCreate(t, c, spec("COE", "coe"))
			var want []string
			for i := range n {
				want = append(want, mustSubtask(t, c, parent.Key, fmt.Sprint("item ", i), actionLabel).Key)
			}
			if n > 0 {
				srv.Assign(want[n-1], "acc-9", "", "Bo")
				srv.SetDue(want[n-1], "2026-01-31")
			}
			// Search alone does not see them yet.
			if refs, err := c.FindByLabel(ctx, actionLabel); err != nil || len(refs) != 0 {
				t.Fatalf("search sees %v (%v): SearchLag is not in effect", refs, err)
			}
			srv.ResetRequests()
			items, err := c.Subtasks(ctx, parent.Key)
			if err != nil {
				t.Fatal(err)
			}
			if got := itemKeys(items); !reflect.DeepEqual(got, append([]string{}, want...)) {
				t.Fatalf("sub-tasks %v, want %v", got, want)
			}
			for i, it := range items {
				if it.Summary != fmt.Sprint("item ", i) || it.Parent != parent.Key || !it.Subtask || !it.HasLabel(actionLabel) || it.Created.IsZero() {
					t.Fatalf("item %d: %+v", i, it)
				}
			}
			if n > 0 {
				if last := items[n-1]; last.AssigneeID != "acc-9" || last.AssigneeName != "Bo" || last.Due != time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC) {
					t.Fatalf("last item %+v", last)
				}
			}
			searches := (n + 49) / 50
			if g, s := srv.Count("GET", "/rest/api/2/issue/"), srv.Count("POST", "/rest/api/2/search/jql"); g != 1 || s != searches {
				t.Fatalf("%d GETs and %d searches, want 1 and %d", g, s, searches)
			}
			for _, b := range searchBodies(t, srv) {
				if len(b.ReconcileIssues) == 0 || len(b.ReconcileIssues) > 50 || !strings.HasPrefix(b.JQL, "id in (") {
					t.Fatalf("search %+v", b)
				}
			}
		})
	}
}

// intercept serves a fake Jira through a wrapper that may rewrite its
// search answers.
func intercept(t *testing.T, so jiratest.Options, wrap func(srv *jiratest.Server, next http.Handler) http.Handler) (*jiratest.Server, *jira.Client) {
	t.Helper()
	srv := jiratest.NewHandler(so)
	ts := httptest.NewServer(wrap(srv, srv))
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	c, err := jira.New(jira.Options{BaseURL: ts.URL, User: jiratest.DefaultUser, Token: jiratest.DefaultToken, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func isSearch(r *http.Request) bool { return r.URL.Path == "/rest/api/2/search/jql" }

// Whatever search misses or returns stale is read with GET issue; an item
// deleted meanwhile is left out.
func TestSubtasksFallBackToGet(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		wrap func(srv *jiratest.Server, next http.Handler) http.Handler
		gets int // GETs of sub-tasks
		gone bool
	}{
		{"search refused", func(_ *jiratest.Server, next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if isSearch(r) {
					w.WriteHeader(400)
					fmt.Fprint(w, `{"errorMessages":["Error in the JQL Query"],"errors":{}}`)
					return
				}
				next.ServeHTTP(w, r)
			})
		}, 3, false},
		{"reconcileIssues ignored", func(_ *jiratest.Server, next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if isSearch(r) {
					var body map[string]any
					b, _ := io.ReadAll(r.Body)
					_ = json.Unmarshal(b, &body)
					delete(body, "reconcileIssues")
					b, _ = json.Marshal(body)
					r.Body = io.NopCloser(bytes.NewReader(b))
					r.ContentLength = int64(len(b))
				}
				next.ServeHTTP(w, r)
			})
		}, 3, false},
		{"stale search results", func(_ *jiratest.Server, next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !isSearch(r) {
					next.ServeHTTP(w, r)
					return
				}
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				var body struct {
					Issues []map[string]any `json:"issues"`
					IsLast bool             `json:"isLast"`
				}
				_ = json.Unmarshal(rec.Body.Bytes(), &body)
				for _, is := range body.Issues[:2] {
					is["fields"].(map[string]any)["summary"] = "old summary"
				}
				b, _ := json.Marshal(body)
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(b)
			})
		}, 2, false},
		{"sub-task deleted meanwhile", func(srv *jiratest.Server, next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if isSearch(r) {
					srv.Delete("OPS-3") // after the parent's list was read
				}
				next.ServeHTTP(w, r)
			})
		}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := intercept(t, jiratest.Options{SearchLag: time.Hour}, tt.wrap)
			parent := mustCreate(t, c, spec("COE"))
			var want []string
			for i := range 3 {
				want = append(want, mustSubtask(t, c, parent.Key, fmt.Sprint("item ", i)).Key)
			}
			srv.ResetRequests()
			items, err := c.Subtasks(ctx, parent.Key)
			if err != nil {
				t.Fatal(err)
			}
			if tt.gone {
				want = []string{want[0], want[2]}
			}
			if got := itemKeys(items); !reflect.DeepEqual(got, want) {
				t.Fatalf("sub-tasks %v, want %v", got, want)
			}
			for i, it := range items {
				if !strings.HasPrefix(it.Summary, "item ") || it.Parent != parent.Key {
					t.Fatalf("item %d: %+v", i, it)
				}
			}
			if g := srv.Count("GET", "/rest/api/2/issue/") - 1; g != tt.gets {
				t.Fatalf("%d GETs of sub-tasks, want %d", g, tt.gets)
			}
		})
	}
}

func TestLinkedItems(t *testing.T) {
	ctx := context.Background()
	srv, c := setup(t, jiratest.Options{SearchLag: time.Hour})
	cr := mustCreate(t, c, spec("COE", "coe"))
	out := mustCreate(t, c, spec("outward relates", actionLabel))    // COE relates to out
	in := mustCreate(t, c, spec("inward relates", actionLabel))      // in relates to COE
	plain := mustCreate(t, c, spec("related, not an item"))          // no label
	blocker := mustCreate(t, c, spec("blocks the COE", actionLabel)) // another type
	sub := mustSubtask(t, c, cr.Key, "sub-task, not linked", actionLabel)
	srv.Link(cr.Key, out.Key, "Relates")
	srv.Link(in.Key, cr.Key, "Relates")
	srv.Link(cr.Key, plain.Key, "Relates")
	srv.Link(blocker.Key, cr.Key, "Blocks")
	srv.Link(out.Key, cr.Key, "Relates") // both ways: listed once

	tests := []struct {
		name, linkType, label string
		want                  []string
	}{
		{"type and label", "Relates", actionLabel, []string{out.Key, in.Key}},
		{"type is case-insensitive", " relates ", actionLabel, []string{out.Key, in.Key}},
		{"other type", "Blocks", actionLabel, []string{blocker.Key}},
		{"any label", "Relates", "", []string{out.Key, in.Key, plain.Key}},
		{"any type", "", actionLabel, []string{out.Key, in.Key, blocker.Key}},
		{"unknown type", "Duplicate", actionLabel, []string{}},
		{"label nobody has", "Relates", "nope", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			items, err := c.LinkedItems(ctx, cr.Key, tt.linkType, tt.label)
			if err != nil {
				t.Fatal(err)
			}
			if got := itemKeys(items); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("linked %v, want %v (sub-task %s must never show)", got, tt.want, sub.Key)
			}
			for _, it := range items {
				if it.Summary == "" || it.Status != "To Do" || len(it.Links) == 0 {
					t.Fatalf("item %+v", it)
				}
			}
			if g := srv.Count("GET", "/rest/api/2/issue/"); g != 1 {
				t.Fatalf("%d GETs", g)
			}
		})
	}
	if _, err := c.LinkedItems(ctx, "OPS-99", "Relates", actionLabel); engine.StatusOf(err) != 404 {
		t.Fatalf("missing COE: %v", err)
	}
}

func TestEditItem(t *testing.T) {
	ctx := context.Background()
	str := func(s string) *string { return &s }
	date := func(t time.Time) *time.Time { return &t }
	ist := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		name     string
		before   func(srv *jiratest.Server, key string)
		summary  *string
		due      *time.Time
		wantSum  string
		wantDue  string
		wantPUTs int
		status   int
	}{
		{"summary only", nil, str("New title"), nil, "New title", "2025-01-01", 1, 0},
		{"set due", nil, nil, date(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), "old", "2026-12-01", 1, 0},
		{"due is the date in its own zone", nil, nil, date(time.Date(2026, 12, 1, 1, 0, 0, 0, ist)), "old", "2026-12-01", 1, 0},
		{"clear due", nil, nil, &time.Time{}, "old", "", 1, 0},
		{"both", nil, str("Both"), date(time.Date(2027, 2, 3, 0, 0, 0, 0, time.UTC)), "Both", "2027-02-03", 1, 0},
		{"nothing to change", nil, nil, nil, "old", "2025-01-01", 0, 0},
		{"summary Jira refuses", nil, str("two\nlines"), nil, "old", "2025-01-01", 1, 400},
		{"deleted issue", func(srv *jiratest.Server, key string) { srv.Delete(key) }, str("x"), nil, "", "", 1, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := setup(t, jiratest.Options{})
			ref := mustCreate(t, c, spec("old"))
			srv.SetDue(ref.Key, "2025-01-01")
			if tt.before != nil {
				tt.before(srv, ref.Key)
			}
			srv.ResetRequests()
			err := c.EditItem(ctx, ref.Key, tt.summary, tt.due)
			if n := srv.Count("PUT", "/rest/api/2/issue/"); n != tt.wantPUTs {
				t.Fatalf("%d PUTs", n)
			}
			if tt.status != 0 {
				var e *engine.Error
				if !errors.As(err, &e) || e.Kind != engine.Permanent || e.Status != tt.status {
					t.Fatalf("err %v, want permanent %d", err, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			is, _ := srv.Issue(ref.Key)
			if is.Summary != tt.wantSum || is.DueDate != tt.wantDue {
				t.Fatalf("summary %q due %q", is.Summary, is.DueDate)
			}
			got, err := c.GetItem(ctx, ref.Key)
			if err != nil {
				t.Fatal(err)
			}
			if wantDue := tt.wantDue; (wantDue == "") != got.Due.IsZero() || (wantDue != "" && got.Due.Format("2006-01-02") != wantDue) {
				t.Fatalf("GetItem due %v, want %q", got.Due, wantDue)
			}
		})
	}
}

func TestUpdatedSince(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	ctx := context.Background()
	tests := []struct {
		name string
		loc  *time.Location
		// wantDate is the JQL date for since = 12:02:30Z.
		wantDate string
		// wantKeys of OPS issues updated at 11:00, 11:58, 12:00, 12:30, 13:00 (UTC).
		wantKeys []string
	}{
		// 12:02:30Z - 5m = 11:57:30Z = 17:27:30 IST.
		{"profile zone", kolkata, "2025/03/04 17:27", []string{"OPS-2", "OPS-3", "OPS-4", "OPS-5"}},
		{"UTC", time.UTC, "2025/03/04 11:57", []string{"OPS-2", "OPS-3", "OPS-4", "OPS-5"}},
		// A zone Go cannot load: UTC, 14h further back; everything is in.
		{"unknown zone", time.FixedZone("XYZ", -5*3600), "2025/03/03 21:57", []string{"OPS-1", "OPS-2", "OPS-3", "OPS-4", "OPS-5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock() // 10:00Z
			srv, c := setup(t, jiratest.Options{Now: clk.Now, Location: tt.loc, MaxResults: 2, SearchLag: time.Second,
				Projects: []jiratest.Project{{Key: "OPS"}, {Key: "SEC"}}})
			var keys []string
			for range 5 {
				keys = append(keys, mustCreate(t, c, spec("x")).Key)
			}
			mustCreate(t, c, coe.TicketSpec{Project: "SEC", IssueType: "Task", Summary: "other project"})
			for i, at := range []string{"11:00", "11:58", "12:00", "12:30", "13:00"} {
				tm, _ := time.Parse("15:04", at)
				clk.t = time.Date(2025, 3, 4, tm.Hour(), tm.Minute(), 0, 0, time.UTC)
				srv.SetStatus(keys[i], "In Progress")
			}
			clk.Add(time.Minute)
			srv.SetStatus("SEC-1", "In Progress")
			srv.ResetRequests()

			since := time.Date(2025, 3, 4, 12, 2, 30, 0, time.UTC)
			items, err := c.UpdatedSince(ctx, "OPS", since)
			if err != nil {
				t.Fatal(err)
			}
			if got := itemKeys(items); !reflect.DeepEqual(got, tt.wantKeys) {
				t.Fatalf("updated since: %v, want %v", got, tt.wantKeys)
			}
			for _, it := range items {
				if it.Status != "In Progress" || it.Updated.IsZero() || it.Project != "OPS" {
					t.Fatalf("item %+v", it)
				}
			}
			bodies := searchBodies(t, srv)
			if want := (len(tt.wantKeys) + 1) / 2; len(bodies) != want {
				t.Fatalf("%d pages, want %d", len(bodies), want)
			}
			wantJQL := `project = "OPS" AND updated >= "` + tt.wantDate + `" ORDER BY created ASC, key ASC`
			if bodies[0].JQL != wantJQL {
				t.Fatalf("JQL %q, want %q", bodies[0].JQL, wantJQL)
			}
			// The zone is asked once.
			if _, err := c.UpdatedSince(ctx, "OPS", since); err != nil {
				t.Fatal(err)
			}
			if n := srv.Count("GET", "/rest/api/2/myself"); n != 1 {
				t.Fatalf("%d /myself calls", n)
			}
			// Zero since: the whole project.
			items, err = c.UpdatedSince(ctx, "OPS", time.Time{})
			if err != nil || len(items) != 5 {
				t.Fatalf("zero since: %v %v", itemKeys(items), err)
			}
		})
	}
	_, c := setup(t, jiratest.Options{})
	if _, err := c.UpdatedSince(ctx, "NOPE", time.Now()); engine.StatusOf(err) != 400 {
		t.Fatalf("unknown project: %v", err)
	}
	if _, err := c.UpdatedSince(ctx, " ", time.Now()); err == nil {
		t.Fatal("empty project accepted")
	}
}

func TestJQLTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	tests := []struct {
		name string
		t    time.Time
		loc  *time.Location
		want string
	}{
		{"seconds are dropped", time.Date(2025, 3, 4, 10, 5, 59, 999, time.UTC), time.UTC, "2025/03/04 10:05"},
		{"nil is UTC", time.Date(2025, 3, 4, 10, 5, 0, 0, time.UTC), nil, "2025/03/04 10:05"},
		{"written in the zone", time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC), ny, "2025/07/01 08:00"},
		// 01:30 EDT, just before clocks fall back: 01:30 happens twice, so
		// go back three hours.
		{"ambiguous hour", time.Date(2025, 11, 2, 5, 30, 0, 0, time.UTC), ny, "2025/11/01 22:30"},
		{"just after spring forward", time.Date(2025, 3, 9, 7, 30, 0, 0, time.UTC), ny, "2025/03/08 23:30"},
		{"hours after spring forward", time.Date(2025, 3, 9, 10, 30, 0, 0, time.UTC), ny, "2025/03/09 06:30"},
	}
	for _, tt := range tests {
		if got := jira.JQLTime(tt.t, tt.loc); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The new operations keep the transport's *engine.Error for 5xx, 404 and
// network errors.
func TestItemOperationsKeepEngineError(t *testing.T) {
	ctx := context.Background()
	summary := "x"
	ops := []struct {
		name   string
		op     func(*jira.Client) error
		status int // against an empty Jira; 0 when it succeeds
	}{
		{"GetItem", func(c *jira.Client) error { _, err := c.GetItem(ctx, "OPS-1"); return err }, 404},
		{"Subtasks", func(c *jira.Client) error { _, err := c.Subtasks(ctx, "OPS-1"); return err }, 404},
		{"LinkedItems", func(c *jira.Client) error { _, err := c.LinkedItems(ctx, "OPS-1", "Relates", "x"); return err }, 404},
		{"EditItem", func(c *jira.Client) error { return c.EditItem(ctx, "OPS-1", &summary, nil) }, 404},
		{"UpdatedSince", func(c *jira.Client) error { _, err := c.UpdatedSince(ctx, "OPS", time.Now()); return err }, 0},
	}
	for _, tt := range ops {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := setup(t, jiratest.Options{})
			srv.FailNext(1, 502, 0)
			var e *engine.Error
			if err := tt.op(c); !errors.As(err, &e) || e.Kind != engine.Retryable || e.Status != 502 {
				t.Fatalf("502: %v", err)
			}
			err := tt.op(c)
			if tt.status == 0 && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.status != 0 && (!errors.As(err, &e) || e.Kind != engine.Permanent || e.Status != tt.status) {
				t.Fatalf("want permanent %d: %v", tt.status, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "jira: ") {
				t.Fatalf("error not prefixed: %v", err)
			}
			srv.Close()
			err = tt.op(c)
			if !errors.As(err, &e) || e.Kind != engine.Retryable || e.Status != 0 {
				t.Fatalf("network error: %v", err)
			}
		})
	}
}

// Neither the token nor user:token (nor its base64) shows in the errors of
// the new operations, even when the server echoes the credentials.
func TestItemOperationsNeverLeakToken(t *testing.T) {
	const user, token = "bot@example.com", "ATATT3xFfGF0-s3cr3t-t0k3n"
	pair := user + ":" + token
	b64 := base64.StdEncoding.EncodeToString([]byte(pair))
	ctx := context.Background()
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"errorMessages":["bad credentials %s (%s)"],"errors":{"auth":%q}}`, r.Header.Get("Authorization"), token, pair)
		}
	}
	for name, h := range map[string]http.Handler{
		"echo 400": echo(400), "echo 500": echo(500), "echo 404": echo(404),
		"echo 200 junk": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Header.Get("Authorization")) }),
	} {
		srv := httptest.NewServer(h)
		c, err := jira.New(jira.Options{BaseURL: srv.URL, User: user, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		s := "x"
		var errs []error
		_, err = c.GetItem(ctx, "OPS-1")
		errs = append(errs, err)
		_, err = c.Subtasks(ctx, "OPS-1")
		errs = append(errs, err)
		_, err = c.LinkedItems(ctx, "OPS-1", "Relates", "x")
		errs = append(errs, err)
		errs = append(errs, c.EditItem(ctx, "OPS-1", &s, nil))
		_, err = c.UpdatedSince(ctx, "OPS", time.Now())
		errs = append(errs, err)
		srv.Close()
		failed := 0
		for i, err := range errs {
			if err == nil {
				continue // e.g. an edit the junk server answers 200
			}
			failed++
			texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
			var e *engine.Error
			if errors.As(err, &e) {
				texts = append(texts, e.Msg, e.Error())
			}
			for _, s := range texts {
				for _, secret := range []string{token, pair, b64} {
					if strings.Contains(s, secret) {
						t.Fatalf("%s op %d leaks a credential: %s", name, i, s)
					}
				}
			}
		}
		if failed < 4 {
			t.Fatalf("%s: only %d operations failed", name, failed)
		}
	}
}
