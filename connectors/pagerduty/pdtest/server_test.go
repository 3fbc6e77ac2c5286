package pdtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
)

const token = "pdtest-token-123"

func start(t *testing.T) *pdtest.Server {
	t.Helper()
	s := pdtest.New(token)
	t.Cleanup(s.Close)
	return s
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, s *pdtest.Server, method, path string, hdr map[string]string, body string) resp {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token token="+token)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{r.StatusCode, r.Header, b}
}

func errorBody(t *testing.T, b []byte) (string, int) {
	t.Helper()
	var e struct {
		Error *struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error == nil || e.Error.Message == "" {
		t.Fatalf("not a PagerDuty error body: %s (%v)", b, err)
	}
	return e.Error.Message, e.Error.Code
}

func TestAuthMethodsAndNotFound(t *testing.T) {
	s := start(t)
	s.AddIncident(pdtest.SimpleIncident("PSIMP01", time.Now()))
	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		status int
		code   int
	}{
		{"ok", "GET", "/incidents/PSIMP01", nil, 200, 0},
		{"no auth", "GET", "/incidents/PSIMP01", map[string]string{"Authorization": ""}, 401, 2006},
		{"wrong token", "GET", "/incidents/PSIMP01", map[string]string{"Authorization": "Token token=nope"}, 401, 2006},
		{"bearer", "GET", "/incidents/PSIMP01", map[string]string{"Authorization": "Bearer " + token}, 401, 2006},
		{"unknown incident", "GET", "/incidents/PNOPE", nil, 404, 2100},
		{"unknown incident log", "GET", "/incidents/PNOPE/log_entries", nil, 404, 2100},
		{"unknown incident notes", "GET", "/incidents/PNOPE/notes", nil, 404, 2100},
		{"unknown path", "GET", "/services/PSVC001", nil, 404, 2100},
		{"unknown sub path", "GET", "/incidents/PSIMP01/status_updates", nil, 404, 2100},
		{"DELETE incident", "DELETE", "/incidents/PSIMP01", nil, 405, 0},
		{"PUT log entries", "PUT", "/incidents/PSIMP01/log_entries", nil, 405, 0},
		{"DELETE notes", "DELETE", "/incidents/PSIMP01/notes", nil, 405, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, tt.method, tt.path, tt.hdr, "")
			if r.status != tt.status || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Fatalf("%s %s = %d %s: %s", tt.method, tt.path, r.status, r.header.Get("Content-Type"), r.body)
			}
			if tt.status == 200 {
				return
			}
			_, code := errorBody(t, r.body)
			if code != tt.code {
				t.Fatalf("code = %d, want %d", code, tt.code)
			}
			if tt.status == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
}

func readContract(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// The incident has exactly the fields of the OpenAPI example.
func TestIncidentWireShape(t *testing.T) {
	s := start(t)
	s.AddIncident(pdtest.RichIncident("PRICH01", time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)))
	r := do(t, s, "GET", "/incidents/PRICH01", nil, "")
	var got, want map[string]map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readContract(t, "openapi-example-get-incident.json"), &want); err != nil {
		t.Fatal(err)
	}
	if g, w := keys(got["incident"]), keys(want["incident"]); !slices.Equal(g, w) {
		t.Fatalf("incident keys\n got %v\nwant %v", g, w)
	}
	inc := got["incident"]
	if inc["status"] != "resolved" || inc["resolved_at"] != "2024-05-01T09:47:00Z" || inc["title"] != "Checkout API 5xx rate above 5%" {
		t.Fatalf("incident = %v", inc)
	}
	if p := inc["priority"].(map[string]any); p["summary"] != "P1" || p["type"] != "priority_reference" {
		t.Fatalf("priority = %v", p)
	}
}

type page struct {
	LogEntries []map[string]any `json:"log_entries"`
	Limit      int              `json:"limit"`
	Offset     int              `json:"offset"`
	More       bool             `json:"more"`
	Total      *int             `json:"total"`
}

func TestLogEntriesPagination(t *testing.T) {
	s := start(t)
	base := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	fx := pdtest.Incident{ID: "PBIG001", CreatedAt: base}
	for i := range 250 {
		kind := "notify"
		if i%50 == 0 {
			kind = "acknowledge"
		}
		fx.LogEntries = append(fx.LogEntries, pdtest.LogEntry{Kind: kind, At: base.Add(time.Duration(i) * time.Second), Summary: fmt.Sprint(i)})
	}
	s.AddIncident(fx)

	get := func(q string) page {
		t.Helper()
		r := do(t, s, "GET", "/incidents/PBIG001/log_entries"+q, nil, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		var p page
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		q                  string
		n, limit, off      int
		more               bool
		total              int // -1: null
		firstSummary       string
		expectOnlyOverview bool
	}{
		{"", 25, 25, 0, true, -1, "249", false},
		{"?limit=100", 100, 100, 0, true, -1, "249", false},
		{"?limit=100&offset=100", 100, 100, 100, true, -1, "149", false},
		{"?limit=100&offset=200&total=true", 50, 100, 200, false, 250, "49", false},
		{"?limit=500", 100, 100, 0, true, -1, "249", false},
		{"?offset=1000", 0, 25, 1000, false, -1, "", false},
		{"?is_overview=true&total=true", 5, 25, 0, false, 5, "200", true},
		{"?is_overview=false&limit=100&offset=200", 50, 100, 200, false, -1, "49", false},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			p := get(tt.q)
			if len(p.LogEntries) != tt.n || p.Limit != tt.limit || p.Offset != tt.off || p.More != tt.more {
				t.Fatalf("page: %d entries, limit %d, offset %d, more %v", len(p.LogEntries), p.Limit, p.Offset, p.More)
			}
			if (tt.total < 0) != (p.Total == nil) || (p.Total != nil && *p.Total != tt.total) {
				t.Fatalf("total = %v, want %d", p.Total, tt.total)
			}
			if tt.n > 0 && p.LogEntries[0]["summary"] != tt.firstSummary {
				t.Fatalf("first entry %v, want summary %s (newest first)", p.LogEntries[0]["summary"], tt.firstSummary)
			}
			for _, e := range p.LogEntries {
				if tt.expectOnlyOverview && e["type"] != "acknowledge_log_entry" {
					t.Fatalf("overview holds %v", e["type"])
				}
			}
		})
	}
	for _, q := range []string{"?offset=x", "?limit=0", "?offset=-1"} {
		r := do(t, s, "GET", "/incidents/PBIG001/log_entries"+q, nil, "")
		if _, code := errorBody(t, r.body); r.status != 400 || code != 2001 {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}

// Log entries use only fields of the documented log entries (plus user, of
// notify entries), and the types of the LogEntry enum.
func TestLogEntryWireShape(t *testing.T) {
	s := start(t)
	s.AddIncident(pdtest.RichIncident("PRICH01", time.Now()))
	r := do(t, s, "GET", "/incidents/PRICH01/log_entries?limit=100", nil, "")
	var got page
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"user": true}
	for _, f := range []string{"developer-docs-v2-webhook-log-entries.json", "openapi-example-incident-log-entries.json"} {
		var p page
		if err := json.Unmarshal(readContract(t, f), &p); err != nil {
			t.Fatal(err)
		}
		for _, e := range p.LogEntries {
			for k := range e {
				allowed[k] = true
			}
		}
	}
	types := map[string]bool{}
	for _, e := range got.LogEntries {
		for k := range e {
			if !allowed[k] {
				t.Errorf("undocumented field %q in %v", k, e["type"])
			}
		}
		types[e["type"].(string)] = true
		if e["type"] == "notify_log_entry" {
			if u, _ := e["user"].(map[string]any); u["type"] != "user_reference" || u["summary"] == "" {
				t.Errorf("notify without user: %v", e)
			}
		}
	}
	for _, typ := range []string{"trigger_log_entry", "notify_log_entry", "escalate_log_entry", "acknowledge_log_entry", "annotate_log_entry", "resolve_log_entry"} {
		if !types[typ] {
			t.Errorf("no %s in the rich timeline", typ)
		}
	}
}

func TestNotes(t *testing.T) {
	s := start(t)
	s.AddIncident(pdtest.RichIncident("PRICH01", time.Now().Add(-2*time.Hour)))
	jsonCT := map[string]string{"Content-Type": "application/json", "From": pdtest.Alice.Email}
	tests := []struct {
		name   string
		hdr    map[string]string
		body   string
		status int
		code   int
	}{
		{"no From", map[string]string{"Content-Type": "application/json"}, `{"note":{"content":"x"}}`, 400, 2016},
		{"From not a user", map[string]string{"Content-Type": "application/json", "From": "stranger@example.com"}, `{"note":{"content":"x"}}`, 400, 1008},
		{"not JSON content type", map[string]string{"From": "a@b.c"}, `{"note":{"content":"x"}}`, 400, 2001},
		{"no note", jsonCT, `{"content":"x"}`, 400, 2001},
		{"empty content", jsonCT, `{"note":{"content":"  "}}`, 400, 2001},
		{"garbage", jsonCT, `{`, 400, 2001},
		{"ok", jsonCT, `{"note":{"content":"Action: fix it"}}`, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, "POST", "/incidents/PRICH01/notes", tt.hdr, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if tt.status != 200 {
				if _, code := errorBody(t, r.body); code != tt.code {
					t.Fatalf("code %d, want %d", code, tt.code)
				}
				return
			}
			var out struct {
				Note map[string]any `json:"note"`
			}
			if err := json.Unmarshal(r.body, &out); err != nil || out.Note["content"] != "Action: fix it" {
				t.Fatalf("response %s", r.body)
			}
			if u := out.Note["user"].(map[string]any); u["summary"] != pdtest.Alice.Name {
				t.Fatalf("author %v", u)
			}
		})
	}
	notes := s.Notes("PRICH01")
	if len(notes) != 3 || notes[2].Content != "Action: fix it" || notes[2].Author != pdtest.Alice {
		t.Fatalf("Notes = %+v", notes)
	}
	if s.Notes("PNOPE") != nil {
		t.Fatal("notes of an unknown incident")
	}
	r := do(t, s, "GET", "/incidents/PRICH01/notes", nil, "")
	var list struct {
		Notes []map[string]any `json:"notes"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil || len(list.Notes) != 3 {
		t.Fatalf("GET notes: %s", r.body)
	}
	// The added note logged an annotate entry (the newest).
	r = do(t, s, "GET", "/incidents/PRICH01/log_entries?limit=1", nil, "")
	if !bytes.Contains(r.body, []byte(`"annotate_log_entry"`)) || !bytes.Contains(r.body, []byte(pdtest.Alice.Name)) {
		t.Fatalf("newest entry: %s", r.body)
	}
}

func TestFailNextAndLatency(t *testing.T) {
	s := start(t)
	s.AddIncident(pdtest.SimpleIncident("PSIMP01", time.Now()))
	s.FailNext(2, 503, 1500*time.Millisecond)
	for i := range 2 {
		r := do(t, s, "GET", "/incidents/PSIMP01", nil, "")
		if r.status != 503 || r.header.Get("Retry-After") != "2" {
			t.Fatalf("request %d: %d Retry-After %q", i, r.status, r.header.Get("Retry-After"))
		}
		errorBody(t, r.body)
	}
	s.FailNext(1, 429, 0)
	r := do(t, s, "GET", "/incidents/PSIMP01", nil, "")
	if msg, code := errorBody(t, r.body); r.status != 429 || code != 2020 || msg == "" || r.header.Get("Retry-After") != "" {
		t.Fatalf("429: %d %v %s", r.status, r.header, r.body)
	}
	if r := do(t, s, "GET", "/incidents/PSIMP01", nil, ""); r.status != 200 {
		t.Fatalf("after faults: %d", r.status)
	}

	s.Latency(100 * time.Millisecond)
	start := time.Now()
	do(t, s, "GET", "/incidents/PSIMP01", nil, "")
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("latency %v", d)
	}
	s.Latency(0)
}

func TestFaultRateDeterministic(t *testing.T) {
	run := func(seed int64) []int {
		s := start(t)
		s.AddIncident(pdtest.SimpleIncident("PSIMP01", time.Now()))
		s.SetFaultRate(0.3, 0.2, seed)
		var statuses []int
		for range 60 {
			r := do(t, s, "GET", "/incidents/PSIMP01", nil, "")
			if r.status == 429 && r.header.Get("Retry-After") != "1" {
				t.Fatalf("random 429 with Retry-After %q", r.header.Get("Retry-After"))
			}
			statuses = append(statuses, r.status)
		}
		return statuses
	}
	a, b, c := run(1), run(1), run(2)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("different seeds, same faults: %v", a)
	}
	count := map[int]int{}
	for _, st := range a {
		count[st]++
	}
	if count[200] == 0 || count[500] == 0 || count[429] == 0 || len(count) != 3 {
		t.Fatalf("statuses %v", count)
	}
}

func TestRequestLog(t *testing.T) {
	s := start(t)
	s.AddIncident(pdtest.SimpleIncident("PSIMP01", time.Now()))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/incidents/PSIMP01"
			if i%2 == 1 {
				path += "/log_entries?limit=10&offset=0"
			}
			do(t, s, "GET", path, map[string]string{"From": "x@example.com", "User-Agent": "test"}, "")
			_ = s.Requests()
			_ = s.Count("", "/")
		}()
	}
	wg.Wait()
	do(t, s, "POST", "/incidents/PSIMP01/notes", map[string]string{"Content-Type": "application/json", "From": "x@example.com"}, `{"note":{"content":"hi"}}`)
	do(t, s, "GET", "/incidents/PSIMP01", map[string]string{"Authorization": "Token token=bad"}, "")

	if n := s.Count("GET", "/incidents/PSIMP01/log_entries"); n != 10 {
		t.Fatalf("Count log entries = %d", n)
	}
	if n := s.Count("GET", "/incidents/"); n != 21 {
		t.Fatalf("Count GET = %d", n)
	}
	if n := s.Count("", "/incidents/PSIMP01"); n != 22 {
		t.Fatalf("Count any = %d", n)
	}
	reqs := s.Requests()
	if len(reqs) != 22 {
		t.Fatalf("%d requests", len(reqs))
	}
	post := reqs[20]
	if post.Method != "POST" || string(post.Body) != `{"note":{"content":"hi"}}` || post.Header.Get("From") != "x@example.com" || !post.Authorized {
		t.Fatalf("POST = %+v", post)
	}
	if reqs[21].Authorized {
		t.Fatal("bad token recorded as authorized")
	}
	for _, r := range reqs {
		if r.Header.Get("Authorization") != "" {
			t.Fatal("Authorization header kept")
		}
		if strings.HasSuffix(r.Path, "/log_entries") && r.Query.Get("limit") != "10" {
			t.Fatalf("query %v", r.Query)
		}
	}
	// Requests returns copies.
	reqs[20].Body[0] = 'X'
	reqs[20].Header.Set("From", "changed")
	if again := s.Requests()[20]; again.Body[0] != '{' || again.Header.Get("From") != "x@example.com" {
		t.Fatal("Requests shares memory with the log")
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 {
		t.Fatal("ResetRequests")
	}
}

// shape renders a JSON value's structure: object keys in order, the shape
// of an array's first element, "_" for scalars and null.
func shape(t *testing.T, dec *json.Decoder) string {
	t.Helper()
	tok, err := dec.Token()
	if err != nil {
		t.Fatal(err)
	}
	switch tok {
	case json.Delim('{'):
		var parts []string
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, k.(string)+":"+shape(t, dec))
		}
		dec.Token()
		return "{" + strings.Join(parts, ",") + "}"
	case json.Delim('['):
		first := ""
		for i := 0; dec.More(); i++ {
			if s := shape(t, dec); i == 0 {
				first = s
			}
		}
		dec.Token()
		return "[" + first + "]"
	}
	return "_"
}

func TestResolvedWebhookShape(t *testing.T) {
	fx := pdtest.RichIncident("PRICH01", time.Date(2024, 5, 1, 9, 0, 0, 0, time.FixedZone("X", 3600)))
	fx.Assignees = []pdtest.User{pdtest.Bob} // the sample has one assignee
	body := pdtest.ResolvedWebhook(fx, "evt-1")
	sample := readContract(t, "developer-docs-incident.priority_updated.json")
	got := shape(t, json.NewDecoder(bytes.NewReader(body)))
	want := shape(t, json.NewDecoder(bytes.NewReader(sample)))
	if got != want {
		t.Fatalf("shape\n got %s\nwant %s", got, want)
	}
	var env struct {
		Event struct {
			ID, EventType, OccurredAt string
			Agent                     struct{ Summary string }
			Data                      struct {
				ID, Status, Title string
				Number            int
				Priority          struct{ Summary string }
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		t.Fatal(err)
	}
	var ev map[string]map[string]any
	json.Unmarshal(body, &ev)
	e := ev["event"]
	d := e["data"].(map[string]any)
	if e["id"] != "evt-1" || e["event_type"] != "incident.resolved" || e["occurred_at"] != "2024-05-01T08:47:00.000Z" ||
		d["status"] != "resolved" || d["id"] != "PRICH01" || int(d["number"].(float64)) != fx.Number ||
		e["agent"].(map[string]any)["summary"] != "Bob Jones" || d["priority"].(map[string]any)["summary"] != "P1" {
		t.Fatalf("webhook %s", body)
	}

	// Without assignees, priority or resolver the shape degrades to empty
	// arrays and nulls, never to missing keys.
	plain := pdtest.ResolvedWebhook(pdtest.Incident{ID: "PX1"}, "evt-2")
	var m map[string]map[string]any
	if err := json.Unmarshal(plain, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["event"]["agent"]; !ok || m["event"]["agent"] != nil {
		t.Fatalf("agent: %s", plain)
	}
	if d := m["event"]["data"].(map[string]any); d["priority"] != nil || len(d["assignees"].([]any)) != 0 || d["status"] != "resolved" {
		t.Fatalf("data: %s", plain)
	}
}

func TestSignVector(t *testing.T) {
	body := readContract(t, "go-pagerduty-webhookv3-test-incident.priority_updated.body.json")
	got := pdtest.Sign("lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK", body)
	if want := "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestFixtures(t *testing.T) {
	base := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	rich := pdtest.RichIncident("PRICH01", base)
	if rich.Number == 0 || rich.Status != "resolved" || len(rich.Notes) != 2 || len(rich.LogEntries) != 8 {
		t.Fatalf("rich = %+v", rich)
	}
	ids := map[string]bool{}
	for _, le := range rich.LogEntries {
		if le.ID == "" || ids[le.ID] {
			t.Fatalf("log entry id %q", le.ID)
		}
		ids[le.ID] = true
	}
	if rich.Notes[0].ID == "" || !strings.HasPrefix(rich.Notes[0].Content, "Action:") || !strings.HasPrefix(rich.Notes[1].Content, "TODO:") {
		t.Fatalf("notes = %+v", rich.Notes)
	}
	// Fixtures do not alias the package's people.
	rich.LogEntries[1].User.Name = "changed"
	if pdtest.Alice.Name != "Alice Smith" {
		t.Fatal("fixture aliases pdtest.Alice")
	}
	simple := pdtest.SimpleIncident("PSIMP01", base)
	if simple.Priority != "" || len(simple.Notes) != 0 || simple.ResolvedAt.Sub(simple.CreatedAt) != 12*time.Minute {
		t.Fatalf("simple = %+v", simple)
	}
	if pdtest.RichIncident("PA", base).Number == pdtest.RichIncident("PB", base).Number {
		t.Fatal("numbers collide")
	}
}

// Fixtures built from time.Now() compare equal to what the wire carries.
func TestFixtureTimesAreWholeSeconds(t *testing.T) {
	now := time.Now()
	fx := pdtest.RichIncident("PNOW001", now)
	if !fx.CreatedAt.Equal(now.Truncate(time.Second)) || fx.CreatedAt.Nanosecond() != 0 ||
		fx.LogEntries[1].At.Nanosecond() != 0 || fx.Notes[0].At.Nanosecond() != 0 {
		t.Fatalf("fixture times: %v %v %v", fx.CreatedAt, fx.LogEntries[1].At, fx.Notes[0].At)
	}
}

// GET /users finds the account's users by email; a user added with AddUser
// may write notes; a read-only key may not.
func TestUsersAndReadOnly(t *testing.T) {
	s := start(t)
	s.AddIncident(pdtest.SimpleIncident("PSIMP01", time.Now().Add(-time.Hour)))
	bot := pdtest.User{ID: "PBOT001", Name: "coesync", Email: "coesync@example.com"}
	note := `{"note":{"content":"hi"}}`
	from := func(email string) map[string]string {
		return map[string]string{"Content-Type": "application/json", "From": email}
	}
	if r := do(t, s, "POST", "/incidents/PSIMP01/notes", from(bot.Email), note); r.status != 400 {
		t.Fatalf("From not yet a user: %d %s", r.status, r.body)
	}
	s.AddUser(bot)
	users := func(query string) []string {
		t.Helper()
		r := do(t, s, "GET", "/users?query="+url.QueryEscape(query), nil, "")
		var out struct {
			Users []struct{ Email string } `json:"users"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
			t.Fatalf("GET /users: %d %s", r.status, r.body)
		}
		var emails []string
		for _, u := range out.Users {
			emails = append(emails, u.Email)
		}
		return emails
	}
	if got := users("COESYNC@example.com"); len(got) != 1 || got[0] != bot.Email {
		t.Errorf("users matching the bot = %v", got)
	}
	if got := users("nobody@example.com"); len(got) != 0 {
		t.Errorf("users matching nobody = %v", got)
	}
	if r := do(t, s, "POST", "/incidents/PSIMP01/notes", from(bot.Email), note); r.status != 200 {
		t.Fatalf("From a user: %d %s", r.status, r.body)
	}
	s.ReadOnly(true)
	r := do(t, s, "POST", "/incidents/PSIMP01/notes", from(bot.Email), note)
	if _, code := errorBody(t, r.body); r.status != 403 || code != 2010 {
		t.Fatalf("read-only key: %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", "/incidents/PSIMP01/notes", nil, ""); r.status != 200 {
		t.Fatalf("read-only key reading: %d", r.status)
	}
}
