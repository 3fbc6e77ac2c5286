package jiratest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func subtask(parent, summary string) map[string]any {
	return map[string]any{"project": map[string]string{"key": "OPS"}, "issuetype": map[string]string{"name": "Sub-task"}, "summary": summary, "parent": map[string]string{"key": parent}}
}

type wireLinks struct {
	Fields struct {
		IssueLinks []struct {
			ID   string
			Self string
			Type struct{ ID, Name, Inward, Outward, Self string }
			// Only one of them is set.
			InwardIssue  *struct{ Key string } `json:"inwardIssue"`
			OutwardIssue *struct{ Key string } `json:"outwardIssue"`
		} `json:"issuelinks"`
	}
}

func TestIssueLinks(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	a, b, c := create(t, s, task("a")), create(t, s, task("b")), create(t, s, task("c"))
	if !s.Link(a, b, "blocks") || !s.Link(c, a, "Relates") || !s.Link(a, b, "Blocks") {
		t.Fatal("Link failed")
	}
	if s.Link(a, "OPS-99", "Relates") || s.Link(a, b, " ") {
		t.Fatal("Link to a missing issue or without type succeeded")
	}
	var got wireLinks
	do(t, s, "GET", "/rest/api/2/issue/"+a+"?fields=issuelinks", nil).json(t, &got)
	ls := got.Fields.IssueLinks
	if len(ls) != 2 {
		t.Fatalf("links %+v", ls)
	}
	if ls[0].Type.Name != "Blocks" || ls[0].Type.Outward != "blocks" || ls[0].Type.Inward != "is blocked by" ||
		ls[0].OutwardIssue == nil || ls[0].OutwardIssue.Key != b || ls[0].InwardIssue != nil ||
		!strings.HasSuffix(ls[0].Self, "/rest/api/2/issueLink/"+ls[0].ID) || ls[0].Type.ID == "" {
		t.Fatalf("outward link %+v", ls[0])
	}
	if ls[1].Type.Name != "Relates" || ls[1].InwardIssue == nil || ls[1].InwardIssue.Key != c || ls[1].OutwardIssue != nil {
		t.Fatalf("inward link %+v", ls[1])
	}
	do(t, s, "GET", "/rest/api/2/issue/"+b+"?fields=issuelinks", nil).json(t, &got)
	if len(got.Fields.IssueLinks) != 1 || got.Fields.IssueLinks[0].InwardIssue.Key != a {
		t.Fatalf("b's links %+v", got.Fields.IssueLinks)
	}
	if n := len(s.Links(a)); n != 2 {
		t.Fatalf("Links(a) = %d", n)
	}
	if !s.Unlink(a, b, "BLOCKS") || s.Unlink(a, b, "Blocks") {
		t.Fatal("Unlink result")
	}
	if ls := s.Links(b); len(ls) != 0 {
		t.Fatalf("after Unlink %+v", ls)
	}
}

func TestKeyAndIDInJQL(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	k1, k2, _ := create(t, s, task("a")), create(t, s, task("b")), create(t, s, task("c"))
	i2, _ := s.Issue(k2)
	for _, tt := range []struct {
		jql    string
		status int
		keys   []string
	}{
		{"key in (" + k1 + ", " + k2 + ")", 200, []string{k1, k2}},
		{`key in ("` + k2 + `")`, 200, []string{k2}},
		{"id in (" + i2.ID + ") ORDER BY key DESC", 200, []string{k2}},
		{"id = " + i2.ID, 200, []string{k2}},
		{"key in (" + k1 + ", OPS-99)", 400, nil},
		{"key in " + k1, 400, nil},
		{"key in (" + k1, 400, nil},
	} {
		status, got, _ := searchKeys(t, s, tt.jql)
		if status != tt.status || (status == 200 && !reflect.DeepEqual(got, tt.keys)) {
			t.Errorf("%s: %d %v, want %d %v", tt.jql, status, got, tt.status, tt.keys)
		}
	}
}

func TestReconcileIssues(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now, SearchLag: time.Minute})
	defer s.Close()
	k1, k2 := create(t, s, task("a", "x")), create(t, s, task("b", "x"))
	i2, _ := s.Issue(k2)
	search := func(body map[string]any) (int, []string) {
		r := do(t, s, "POST", "/rest/api/2/search/jql", body)
		var out struct{ Issues []struct{ Key string } }
		if r.status == 200 {
			r.json(t, &out)
		}
		var keys []string
		for _, is := range out.Issues {
			keys = append(keys, is.Key)
		}
		return r.status, keys
	}
	if st, keys := search(map[string]any{"jql": "labels = x", "fields": []string{"key"}}); st != 200 || len(keys) != 0 {
		t.Fatalf("lagging search: %d %v", st, keys)
	}
	n, _ := json.Number(i2.ID).Int64()
	if st, keys := search(map[string]any{"jql": "labels = x", "fields": []string{"key"}, "reconcileIssues": []int64{n}}); st != 200 || !reflect.DeepEqual(keys, []string{k2}) {
		t.Fatalf("reconciled search: %d %v", st, keys)
	}
	r := do(t, s, "GET", "/rest/api/2/search/jql?jql=labels%3Dx&fields=key&reconcileIssues="+i2.ID, nil)
	if r.status != 200 || !strings.Contains(string(r.body), k2) || strings.Contains(string(r.body), `"`+k1+`"`) {
		t.Fatalf("GET reconciled: %d %s", r.status, r.body)
	}
	many := make([]int64, 51)
	if st, _ := search(map[string]any{"jql": "labels = x", "reconcileIssues": many}); st != 400 {
		t.Fatalf("51 reconcile ids: %d", st)
	}
}

func TestMyselfAndUserDirectory(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	s := New(Options{Location: kolkata})
	defer s.Close()
	var me struct{ AccountID, TimeZone, EmailAddress string }
	do(t, s, "GET", "/rest/api/2/myself", nil).json(t, &me)
	if me.TimeZone != "Asia/Kolkata" || me.AccountID != DefaultUser {
		t.Fatalf("myself %+v", me)
	}

	key := create(t, s, task("x"))
	s.AddUser("acc-hidden", "", "Hidden Email")
	type user struct {
		AccountID   string  `json:"accountId"`
		DisplayName string  `json:"displayName"`
		Email       *string `json:"emailAddress"`
	}
	for _, tt := range []struct {
		assign         func()
		id, name, mail string
		hidden         bool
	}{
		{func() { s.Assign(key, "acc-1", "ana@example.com", "Ana") }, "acc-1", "Ana", "ana@example.com", false},
		{func() { s.Assign(key, "acc-hidden", "", "") }, "acc-hidden", "Hidden Email", "", true},
		{func() { s.Assign(key, "acc-unknown", "", "") }, "acc-unknown", "acc-unknown", "acc-unknown", false},
	} {
		tt.assign()
		var got struct{ Fields struct{ Assignee user } }
		do(t, s, "GET", "/rest/api/2/issue/"+key+"?fields=assignee", nil).json(t, &got)
		a := got.Fields.Assignee
		if a.AccountID != tt.id || a.DisplayName != tt.name || (tt.hidden != (a.Email == nil)) || (!tt.hidden && *a.Email != tt.mail) {
			t.Fatalf("assignee %+v, want %s %s %s", a, tt.id, tt.name, tt.mail)
		}
	}
	s.Assign(key, "", "", "")
	if is, _ := s.Issue(key); is.Assignee != "" {
		t.Fatal("not unassigned")
	}
}

func TestOutOfBandItemHelpers(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now})
	defer s.Close()
	parent := create(t, s, task("COE"))
	sub := create(t, s, subtask(parent, "fix"))
	other := create(t, s, task("other"))
	s.Link(parent, other, "Relates")
	clk.Add(time.Minute)
	if !s.SetDue(sub, "2026-12-01") || s.SetDue(sub, "12/01/2026") || s.SetDue("OPS-99", "") {
		t.Fatal("SetDue result")
	}
	if !s.EditSummary(sub, "fix it") || s.EditSummary(sub, "two\nlines") || s.EditSummary(sub, " ") {
		t.Fatal("EditSummary result")
	}
	is, _ := s.Issue(sub)
	if is.DueDate != "2026-12-01" || is.Summary != "fix it" || !is.Updated.Equal(clk.Now()) {
		t.Fatalf("after helpers %+v", is)
	}
	s.SetDue(sub, "")
	if is, _ := s.Issue(sub); is.DueDate != "" {
		t.Fatal("due not cleared")
	}
	if !s.Delete(parent) || s.Delete(parent) {
		t.Fatal("Delete result")
	}
	if _, ok := s.Issue(sub); ok {
		t.Fatal("sub-task survived its parent")
	}
	if len(s.Links(other)) != 0 || len(s.Issues()) != 1 {
		t.Fatalf("after delete: links %v issues %d", s.Links(other), len(s.Issues()))
	}
	if r := do(t, s, "GET", "/rest/api/2/issue/"+parent, nil); r.status != 404 {
		t.Fatalf("deleted issue: %d", r.status)
	}
}

// hookRecorder is a webhook receiver.
type hookRecorder struct {
	mu     sync.Mutex
	got    []hookDelivery
	status []int // answers to give, in order; then 200
}

type hookDelivery struct {
	header http.Header
	body   []byte
	event  struct {
		Timestamp    int64  `json:"timestamp"`
		WebhookEvent string `json:"webhookEvent"`
		Type         string `json:"issue_event_type_name"`
		User         struct {
			AccountID string `json:"accountId"`
		} `json:"user"`
		Issue struct {
			Key    string
			Fields struct {
				Summary string
				Labels  []string
				DueDate *string `json:"duedate"`
				Status  struct {
					Name           string
					StatusCategory struct{ Key string } `json:"statusCategory"`
				}
				Parent   *struct{ Key string }
				Assignee *struct {
					AccountID string `json:"accountId"`
				}
				Priority struct{ Name string }
				Updated  string
			}
		}
		Changelog *struct {
			Items []struct {
				Field      string  `json:"field"`
				FieldID    string  `json:"fieldId"`
				FromString *string `json:"fromString"`
				ToString   *string `json:"toString"`
			}
		}
		Comment *struct{ Body string }
	}
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	d := hookDelivery{header: r.Header.Clone(), body: b}
	_ = json.Unmarshal(b, &d.event)
	h.mu.Lock()
	h.got = append(h.got, d)
	status := 200
	if len(h.status) > 0 {
		status, h.status = h.status[0], h.status[1:]
	}
	h.mu.Unlock()
	w.WriteHeader(status)
}

func (h *hookRecorder) deliveries() []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookDelivery(nil), h.got...)
}

func fieldIDs(d hookDelivery) []string {
	var out []string
	if d.event.Changelog != nil {
		for _, it := range d.event.Changelog.Items {
			out = append(out, it.FieldID+"/"+it.Field)
		}
	}
	return out
}

func TestWebhooks(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now})
	defer s.Close()
	rec := &hookRecorder{}
	recv := httptest.NewServer(rec)
	defer recv.Close()
	s.SendWebhooks(recv.URL+"/hooks/jira", "s3cret")

	parent := create(t, s, task("COE", "coe"))
	sub := create(t, s, subtask(parent, "fix"))
	do(t, s, "PUT", "/rest/api/2/issue/"+sub, map[string]any{"fields": map[string]any{"summary": "fix it", "duedate": "2026-01-02"}})
	do(t, s, "PUT", "/rest/api/2/issue/"+sub, map[string]any{"fields": map[string]any{"summary": "fix it"}}) // no change: no webhook
	do(t, s, "POST", "/rest/api/2/issue/"+sub+"/transitions", map[string]any{"transition": map[string]string{"id": "21"}})
	do(t, s, "POST", "/rest/api/2/issue/"+sub+"/comment", map[string]string{"body": "hello"})
	s.Assign(sub, "acc-1", "ana@example.com", "Ana")
	s.SetStatus(sub, "Done")
	s.SetDue(sub, "")
	s.Link(parent, sub, "Relates")
	s.Delete(parent)
	s.Flush()

	type want struct {
		event, typ, key, user string
		changed               []string
	}
	wants := []want{
		{"jira:issue_created", "issue_created", parent, DefaultUser, []string{"priority/priority", "reporter/reporter", "status/Status", "summary/summary", "labels/labels"}},
		{"jira:issue_created", "issue_created", sub, DefaultUser, []string{"priority/priority", "reporter/reporter", "status/Status", "summary/summary"}},
		{"jira:issue_updated", "issue_updated", sub, DefaultUser, []string{"duedate/duedate", "summary/summary"}},
		{"jira:issue_updated", "issue_generic", sub, DefaultUser, []string{"status/status"}},
		{"jira:issue_updated", "issue_commented", sub, DefaultUser, nil},
		{"jira:issue_updated", "issue_assigned", sub, HumanAccountID, []string{"assignee/assignee"}},
		{"jira:issue_updated", "issue_generic", sub, HumanAccountID, []string{"resolution/resolution", "status/status"}},
		{"jira:issue_updated", "issue_updated", sub, HumanAccountID, []string{"duedate/duedate"}},
		{"jira:issue_updated", "issue_updated", parent, HumanAccountID, []string{"/Link"}},
		{"jira:issue_updated", "issue_updated", sub, HumanAccountID, []string{"/Link"}},
		{"jira:issue_deleted", "issue_deleted", sub, HumanAccountID, nil},
		{"jira:issue_deleted", "issue_deleted", parent, HumanAccountID, nil},
	}
	got := rec.deliveries()
	if len(got) != len(wants) || s.Deliveries() != len(wants) {
		for _, d := range got {
			t.Logf("%s %s %s %v", d.event.WebhookEvent, d.event.Type, d.event.Issue.Key, fieldIDs(d))
		}
		t.Fatalf("%d deliveries (Deliveries() = %d), want %d", len(got), s.Deliveries(), len(wants))
	}
	ids := map[string]bool{}
	for i, w := range wants {
		d := got[i]
		ev := d.event
		if ev.WebhookEvent != w.event || ev.Type != w.typ || ev.Issue.Key != w.key || ev.User.AccountID != w.user {
			t.Errorf("#%d: %s %s %s by %s, want %+v", i, ev.WebhookEvent, ev.Type, ev.Issue.Key, ev.User.AccountID, w)
		}
		gotIDs := fieldIDs(d)
		for _, c := range w.changed {
			if !contains(gotIDs, c) {
				t.Errorf("#%d: changelog %v lacks %s", i, gotIDs, c)
			}
		}
		if w.changed == nil && ev.Changelog != nil {
			t.Errorf("#%d: unexpected changelog %v", i, gotIDs)
		}
		if ev.Timestamp != clk.Now().UnixMilli() {
			t.Errorf("#%d: timestamp %d", i, ev.Timestamp)
		}
		if sig := d.header.Get(WebhookSignatureHeader); sig != SignWebhook([]byte("s3cret"), d.body) {
			t.Errorf("#%d: signature %q", i, sig)
		}
		id := d.header.Get(WebhookIDHeader)
		if id == "" || ids[id] {
			t.Errorf("#%d: identifier %q not unique", i, id)
		}
		ids[id] = true
		if d.header.Get(WebhookRetryHeader) != "" || !strings.HasPrefix(d.header.Get("Content-Type"), "application/json") {
			t.Errorf("#%d: headers %v", i, d.header)
		}
	}
	// The bodies carry the issue as it was at the change.
	if f := got[2].event.Issue.Fields; f.Summary != "fix it" || f.DueDate == nil || *f.DueDate != "2026-01-02" || f.Parent == nil || f.Parent.Key != parent || f.Priority.Name != "Medium" || f.Updated == "" {
		t.Errorf("edited issue %+v", f)
	}
	if f := got[0].event.Issue.Fields; !reflect.DeepEqual(f.Labels, []string{"coe"}) || f.Status.StatusCategory.Key != "new" {
		t.Errorf("created issue %+v", f)
	}
	if f := got[5].event.Issue.Fields; f.Assignee == nil || f.Assignee.AccountID != "acc-1" {
		t.Errorf("assigned issue %+v", f)
	}
	if it := got[5].event.Changelog.Items[0]; it.ToString == nil || *it.ToString != "Ana" || it.FromString != nil {
		t.Errorf("assignee item %+v", it)
	}
	if f := got[6].event.Issue.Fields; f.Status.Name != "Done" || f.Status.StatusCategory.Key != "done" {
		t.Errorf("done issue %+v", f)
	}
	if c := got[4].event.Comment; c == nil || c.Body != "hello" {
		t.Errorf("comment %+v", c)
	}
	if it := got[7].event.Changelog.Items[0]; it.FromString == nil || *it.FromString != "2026-01-02 00:00:00.0" || it.ToString != nil {
		t.Errorf("due date item %+v", it)
	}

	// An empty secret sends no signature; an empty URL stops sending.
	s.SendWebhooks(recv.URL, "")
	create(t, s, task("unsigned"))
	s.Flush()
	s.SendWebhooks("", "")
	create(t, s, task("unsent"))
	s.Flush()
	got = rec.deliveries()
	if len(got) != len(wants)+1 || got[len(wants)].header.Get(WebhookSignatureHeader) != "" {
		t.Fatalf("after reconfiguring: %d deliveries", len(got))
	}
}

func TestDropWebhooks(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	rec := &hookRecorder{}
	recv := httptest.NewServer(rec)
	defer recv.Close()
	s.SendWebhooks(recv.URL, "x")
	s.DropWebhooks(true)
	lost := create(t, s, task("lost"))
	s.EditSummary(lost, "lost too")
	s.DropWebhooks(false)
	kept := create(t, s, task("kept"))
	s.Flush()
	got := rec.deliveries()
	if len(got) != 1 || got[0].event.Issue.Key != kept || s.Deliveries() != 1 || s.DroppedWebhooks() != 2 {
		t.Fatalf("deliveries %d (%d), dropped %d", len(got), s.Deliveries(), s.DroppedWebhooks())
	}
}

func TestWebhookRetries(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	rec := &hookRecorder{status: []int{503, 429, 200, 400}}
	recv := httptest.NewServer(rec)
	defer recv.Close()
	s.SendWebhooks(recv.URL, "x")
	create(t, s, task("a")) // 503, 429, then 200
	create(t, s, task("b")) // 400: refused, not retried
	s.Flush()
	got := rec.deliveries()
	if len(got) != 4 || s.Deliveries() != 1 || s.DroppedWebhooks() != 1 {
		t.Fatalf("%d posts, %d delivered, %d dropped", len(got), s.Deliveries(), s.DroppedWebhooks())
	}
	id := got[0].header.Get(WebhookIDHeader)
	for i, want := range []string{"", "1", "2"} {
		if got[i].header.Get(WebhookIDHeader) != id || got[i].header.Get(WebhookRetryHeader) != want {
			t.Fatalf("attempt %d: %v", i, got[i].header)
		}
	}
	if got[3].header.Get(WebhookIDHeader) == id {
		t.Fatal("second webhook reused the identifier")
	}
}

// A receiver may call the fake back while it handles a delivery, and Close
// does not wait for a receiver that hangs.
func TestWebhookReceiverCallsBack(t *testing.T) {
	s := New(Options{})
	var mu sync.Mutex
	var summaries []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Issue struct{ Key string } }
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &ev)
		is, _ := s.Issue(ev.Issue.Key)
		mu.Lock()
		summaries = append(summaries, is.Summary)
		mu.Unlock()
	}))
	defer recv.Close()
	s.SendWebhooks(recv.URL, "")
	key := create(t, s, task("a"))
	s.EditSummary(key, "b")
	s.Flush()
	mu.Lock()
	if len(summaries) != 2 {
		t.Fatalf("summaries %v", summaries)
	}
	mu.Unlock()

	// The handler hangs, but not forever: under load the fake's delivery
	// may start after Close, and httptest's Close waits for handlers.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer hang.Close()
	s.SendWebhooks(hang.URL, "")
	s.EditSummary(key, "c")
	done := make(chan struct{})
	go func() { s.Close(); s.Flush(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close waits for a hanging receiver")
	}
}

func TestEditAssigneeByPUT(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	rec := &hookRecorder{}
	recv := httptest.NewServer(rec)
	defer recv.Close()
	s.SendWebhooks(recv.URL, "")
	key := create(t, s, task("x"))
	for _, tt := range []struct {
		assignee any
		want     string
	}{
		{map[string]string{"accountId": "acc-2"}, "acc-2"},
		{nil, ""},
		{map[string]string{"accountId": "acc-3"}, "acc-3"},
		{map[string]string{"accountId": "-1"}, ""},
	} {
		r := do(t, s, "PUT", "/rest/api/2/issue/"+key, map[string]any{"fields": map[string]any{"assignee": tt.assignee}})
		if is, _ := s.Issue(key); r.status != 204 || is.Assignee != tt.want {
			t.Fatalf("assignee %v: %d, %q", tt.assignee, r.status, is.Assignee)
		}
	}
	s.Flush()
	got := rec.deliveries()
	if len(got) != 5 {
		t.Fatalf("%d webhooks", len(got))
	}
	for _, d := range got[1:] {
		if d.event.Type != "issue_assigned" || !reflect.DeepEqual(fieldIDs(d), []string{"assignee/assignee"}) {
			t.Fatalf("webhook %s %v", d.event.Type, fieldIDs(d))
		}
	}
}
