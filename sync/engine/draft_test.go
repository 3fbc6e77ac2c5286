package engine

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

// draftPD is PagerDuty seen from the Drafter: one incident, its notes, and
// the notes added.
type draftPD struct {
	incErr  error
	notes   []coe.Note
	added   []string
	noteErr error
}

func (p *draftPD) Incident(_ context.Context, id string) (coe.Incident, error) {
	if p.incErr != nil {
		return coe.Incident{}, p.incErr
	}
	return coe.Incident{ID: id, Number: 7, Title: "db down", URL: "https://pd.example/incidents/" + id, ServiceID: "PSVC"}, nil
}
func (p *draftPD) LogEntries(context.Context, string) ([]coe.LogEntry, error) { return nil, nil }
func (p *draftPD) Notes(context.Context, string) ([]coe.Note, error)          { return p.notes, nil }
func (p *draftPD) Alerts(context.Context, string) ([]coe.Alert, error)        { return nil, nil }
func (p *draftPD) AddNote(ctx context.Context, _ string, content string) error {
	if err := attempting(ctx); err != nil {
		return err
	}
	if p.noteErr != nil {
		return p.noteErr
	}
	p.added = append(p.added, content)
	return nil
}

// draftJira is Jira seen from the Drafter. onCreate runs inside
// CreateTicket before it answers (as the rate gate does before a send).
type draftJira struct {
	found     []coe.TicketRef
	createErr error
	onCreate  func(ctx context.Context) error
	specs     []coe.TicketSpec
	links     []string
	searches  int
}

func (j *draftJira) FindByLabel(context.Context, string) ([]coe.TicketRef, error) {
	j.searches++
	return j.found, nil
}

func (j *draftJira) CreateTicket(ctx context.Context, spec coe.TicketSpec) (coe.TicketRef, error) {
	j.specs = append(j.specs, spec)
	if j.onCreate != nil {
		if err := j.onCreate(ctx); err != nil {
			return coe.TicketRef{}, err
		}
	}
	if j.createErr != nil {
		return coe.TicketRef{}, j.createErr
	}
	return coe.TicketRef{Key: "OPS-1", ID: "10001", URL: "https://jira.example/browse/OPS-1"}, nil
}

func (j *draftJira) EnsureRemoteLink(_ context.Context, key string, _ coe.RemoteLink) error {
	j.links = append(j.links, key)
	return nil
}

type fixedRoute coe.Route

func (r fixedRoute) Route(coe.Incident) coe.Route { return coe.Route(r) }

type plainRenderer struct{}

func (plainRenderer) Render(d coe.Draft) (string, error) { return "h1. " + d.Incident.Title, nil }

// failingStore is the SQLite store with chosen methods failing.
type failingStore struct {
	*store.SQLite
	fail map[string]error
}

var errStore = errors.New("store down")

func (f *failingStore) COE(ctx context.Context, id string) (store.COE, error) {
	if err := f.fail["COE"]; err != nil {
		return store.COE{}, err
	}
	return f.SQLite.COE(ctx, id)
}
func (f *failingStore) BeginCOE(ctx context.Context, c store.COE) (store.COE, bool, error) {
	if err := f.fail["BeginCOE"]; err != nil {
		return store.COE{}, false, err
	}
	return f.SQLite.BeginCOE(ctx, c)
}
func (f *failingStore) RenewCOEIntent(ctx context.Context, id string, at time.Time) error {
	if err := f.fail["RenewCOEIntent"]; err != nil {
		return err
	}
	return f.SQLite.RenewCOEIntent(ctx, id, at)
}
func (f *failingStore) SetCOETicket(ctx context.Context, id, key, tid, url string, at time.Time) error {
	if err := f.fail["SetCOETicket"]; err != nil {
		return err
	}
	return f.SQLite.SetCOETicket(ctx, id, key, tid, url, at)
}
func (f *failingStore) State(ctx context.Context, key string) (string, error) {
	if err := f.fail["State"]; err != nil {
		return "", err
	}
	return f.SQLite.State(ctx, key)
}
func (f *failingStore) SetState(ctx context.Context, key, value string) error {
	if err := f.fail["SetState"]; err != nil {
		return err
	}
	return f.SQLite.SetState(ctx, key, value)
}

type draftRig struct {
	d    *Drafter
	st   *failingStore
	jira *draftJira
	pd   *draftPD
	now  time.Time
}

var draftT0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func newDraftRig(t *testing.T, route coe.Route) *draftRig {
	t.Helper()
	ctx := context.Background()
	sq, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "d.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	r := &draftRig{st: &failingStore{SQLite: sq, fail: map[string]error{}}, jira: &draftJira{}, pd: &draftPD{}, now: draftT0}
	r.d = &Drafter{Source: r.pd, Tracker: r.jira, Router: fixedRoute(route), Store: r.st, Renderer: plainRenderer{},
		Now: func() time.Time { return r.now }, Log: slog.New(slog.DiscardHandler), SearchSettle: time.Minute,
		Sleep: func(_ context.Context, d time.Duration) error { r.now = r.now.Add(d); return nil }}
	return r
}

func (r *draftRig) coe(t *testing.T) store.COE {
	t.Helper()
	c, err := r.st.SQLite.COE(context.Background(), "PINC1")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var opsRoute = coe.Route{Project: "OPS", IssueType: "Task", Labels: []string{"sre"}}

func TestDraftCreatesOnceAndLinks(t *testing.T) {
	ctx := context.Background()
	r := newDraftRig(t, opsRoute)
	var created []string
	r.d.Created = func(_ context.Context, c store.COE, _ coe.Draft) error {
		created = append(created, c.TicketKey)
		return nil
	}
	if out, err := r.d.Draft(ctx, "PINC1"); err != nil || out != OutcomeCreated {
		t.Fatalf("Draft = %q, %v; want created", out, err)
	}
	if out, err := r.d.Draft(ctx, "PINC1"); err != nil || out != OutcomeExists {
		t.Fatalf("second Draft = %q, %v; want exists", out, err)
	}
	if len(r.jira.specs) != 1 || r.jira.searches != 0 {
		t.Fatalf("%d creates, %d searches; want 1 create and no search", len(r.jira.specs), r.jira.searches)
	}
	spec := r.jira.specs[0]
	if spec.Project != "OPS" || spec.IssueType != "Task" || strings.Join(spec.Labels, ",") != "coe,"+coe.IncidentLabel("PINC1")+",pd-service-psvc,sre" {
		t.Errorf("spec %+v", spec)
	}
	c := r.coe(t)
	if c.State != store.COECreated || c.TicketKey != "OPS-1" || c.LinkedAt.IsZero() {
		t.Errorf("record %+v", c)
	}
	if len(r.jira.links) != 1 || r.jira.links[0] != "OPS-1" {
		t.Errorf("links %v; want one on OPS-1 (the second run sees it done)", r.jira.links)
	}
	if strings.Join(created, ",") != "OPS-1,OPS-1" {
		t.Errorf("Created called for %v; want on every run", created)
	}
}

// A routing rule that says no COE is recorded, and no ticket is made then
// or on a later run.
func TestDraftHonoursSkipRules(t *testing.T) {
	ctx := context.Background()
	route := opsRoute
	route.Skip = true
	r := newDraftRig(t, route)
	for range 2 {
		if out, err := r.d.Draft(ctx, "PINC1"); err != nil || out != OutcomeSkipped {
			t.Fatalf("Draft = %q, %v; want skipped", out, err)
		}
	}
	// A later change of rules does not make the skipped COE.
	r.d.Router = fixedRoute(opsRoute)
	if out, err := r.d.Draft(ctx, "PINC1"); err != nil || out != OutcomeSkipped {
		t.Fatalf("Draft after the rules changed = %q, %v; want skipped", out, err)
	}
	if len(r.jira.specs) != 0 {
		t.Fatalf("%d tickets created for a skipped incident", len(r.jira.specs))
	}
	if c := r.coe(t); c.State != store.COESkipped {
		t.Fatalf("state %q, want skipped", c.State)
	}
}

// Only a 4xx (429 included) says the create was not applied and clears the
// intent; a 5xx or a network error leaves it, so the retry looks in Jira
// before it creates again.
func TestDraftCreateFailureKeepsOrClearsTheIntent(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		err     error
		cleared bool
	}{
		{"400 refused", &Error{Kind: Permanent, Service: "jira", Status: 400}, true},
		{"429 refused", &Error{Kind: RateLimited, Service: "jira", Status: 429}, true},
		{"499 refused", &Error{Kind: Permanent, Service: "jira", Status: 499}, true},
		{"500 unknown", &Error{Kind: Retryable, Service: "jira", Status: 500}, false},
		{"timeout unknown", &Error{Kind: Retryable, Service: "jira"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newDraftRig(t, opsRoute)
			r.jira.createErr = tc.err
			if _, err := r.d.Draft(ctx, "PINC1"); StatusOf(err) != StatusOf(tc.err) || !strings.Contains(err.Error(), "create COE for PINC1") {
				t.Fatalf("Draft error %v", err)
			}
			if c := r.coe(t); c.IntentAt.IsZero() != tc.cleared || c.State == store.COECreated {
				t.Fatalf("after %s: intent %v, state %q; want cleared=%v", tc.name, c.IntentAt, c.State, tc.cleared)
			}
			// The retry: a cleared intent creates at once; a kept one
			// searches Jira first and finds the ticket that landed.
			r.jira.createErr = nil
			r.jira.found = []coe.TicketRef{{Key: "OPS-5", ID: "10005", URL: "u"}}
			out, err := r.d.Draft(ctx, "PINC1")
			want := OutcomeFound
			if tc.cleared {
				want = OutcomeCreated
			}
			if err != nil || out != want {
				t.Fatalf("retry = %q, %v; want %q", out, err, want)
			}
			if tc.cleared == (r.jira.searches > 0) {
				t.Errorf("%d searches on the retry; cleared=%v", r.jira.searches, tc.cleared)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	for st, want := range map[int]bool{0: false, 399: false, 400: true, 404: true, 429: true, 499: true, 500: false, 503: false} {
		err := error(&Error{Status: st})
		if got := refused(err); got != want {
			t.Errorf("refused(HTTP %d) = %v, want %v", st, got, want)
		}
	}
	if refused(errors.New("no status")) {
		t.Error("refused(plain error) = true")
	}
}

// A create held (at the rate gate) after the intent was recorded renews
// the intent when it is finally sent: the settle window starts then.
func TestDraftCreateRenewsItsIntentBeforeAnAttempt(t *testing.T) {
	ctx := context.Background()
	r := newDraftRig(t, opsRoute)
	late := draftT0.Add(90 * time.Second)
	var seen time.Time
	r.jira.createErr = &Error{Kind: Retryable, Service: "jira", Status: 502}
	r.jira.onCreate = func(ctx context.Context) error {
		r.now = late // held at the gate
		if err := attempting(ctx); err != nil {
			return err
		}
		seen = r.coe(t).IntentAt
		return nil
	}
	if _, err := r.d.Draft(ctx, "PINC1"); StatusOf(err) != 502 {
		t.Fatalf("Draft error %v", err)
	}
	if !seen.Equal(late) {
		t.Fatalf("intent %v when the create was sent, want %v", seen, late)
	}
}

// Should a retried create have landed twice, the oldest ticket is the COE
// (keys grow with creation order, numerically).
func TestDraftRecoverChoosesTheOldestTicket(t *testing.T) {
	ctx := context.Background()
	r := newDraftRig(t, opsRoute)
	if _, _, err := r.st.SQLite.BeginCOE(ctx, store.COE{IncidentID: "PINC1", Label: coe.IncidentLabel("PINC1"), IntentAt: draftT0}); err != nil {
		t.Fatal(err)
	}
	r.now = draftT0.Add(5 * time.Second)
	r.jira.found = []coe.TicketRef{{Key: "OPS-12", URL: "u12"}, {Key: "OPS-9", URL: "u9"}, {Key: "OPS-10", URL: "u10"}}
	if out, err := r.d.Draft(ctx, "PINC1"); err != nil || out != OutcomeFound {
		t.Fatalf("Draft = %q, %v; want found", out, err)
	}
	if c := r.coe(t); c.TicketKey != "OPS-9" {
		t.Fatalf("COE is %s, want the oldest OPS-9", c.TicketKey)
	}
	if len(r.jira.specs) != 0 || r.jira.links[0] != "OPS-9" {
		t.Fatalf("%d creates, links %v", len(r.jira.specs), r.jira.links)
	}
}

func TestKeyLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"OPS-9", "OPS-10", true},
		{"OPS-10", "OPS-9", false},
		{"OPS-9", "OPS-9", false},
		{"ABC-99", "OPS-1", true},
		{"OPS-1", "ABC-99", false},
		{"OPS-x", "OPS-1", false}, // unparsable: the whole key as project
		{"OPS", "OPS-1", true},
	} {
		if got := keyLess(tc.a, tc.b); got != tc.want {
			t.Errorf("keyLess(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	if p, n := splitKey("A-B-120"); p != "A-B" || n != 120 {
		t.Errorf("splitKey(A-B-120) = %q, %d", p, n)
	}
}

// A retry after an interrupted create that finds nothing once the window
// has passed creates again, with a fresh intent.
func TestDraftRecoverCreatesAfterTheWindow(t *testing.T) {
	ctx := context.Background()
	r := newDraftRig(t, opsRoute)
	if _, _, err := r.st.SQLite.BeginCOE(ctx, store.COE{IncidentID: "PINC1", Label: coe.IncidentLabel("PINC1"), IntentAt: draftT0}); err != nil {
		t.Fatal(err)
	}
	r.now = draftT0.Add(2 * time.Minute)
	var seen time.Time
	r.jira.onCreate = func(context.Context) error { seen = r.coe(t).IntentAt; return nil }
	if out, err := r.d.Draft(ctx, "PINC1"); err != nil || out != OutcomeCreated {
		t.Fatalf("Draft = %q, %v; want created", out, err)
	}
	if r.jira.searches != 1 || !seen.Equal(r.now) {
		t.Fatalf("%d searches, intent %v at the create; want 1 and %v", r.jira.searches, seen, r.now)
	}
}

// Every store error on the way to a create stops the run before Jira is
// asked to create, and is returned.
func TestDraftStoreErrorsStopTheCreate(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		method      string
		interrupted bool // an earlier run recorded its intent
		creates     int
	}{
		{"BeginCOE", false, 0},
		{"RenewCOEIntent", true, 0},
		{"SetCOETicket", false, 1},
	} {
		t.Run(tc.method, func(t *testing.T) {
			r := newDraftRig(t, opsRoute)
			if tc.interrupted {
				if _, _, err := r.st.SQLite.BeginCOE(ctx, store.COE{IncidentID: "PINC1", Label: coe.IncidentLabel("PINC1"), IntentAt: draftT0}); err != nil {
					t.Fatal(err)
				}
				r.now = draftT0.Add(2 * time.Minute)
			}
			r.st.fail[tc.method] = errStore
			if _, err := r.d.Draft(ctx, "PINC1"); !errors.Is(err, errStore) {
				t.Fatalf("Draft error %v, want the store's", err)
			}
			if len(r.jira.specs) != tc.creates {
				t.Fatalf("%d creates, want %d", len(r.jira.specs), tc.creates)
			}
		})
	}
	// A refused create whose intent cannot be cleared says both.
	r := newDraftRig(t, opsRoute)
	r.jira.createErr = &Error{Kind: Permanent, Service: "jira", Status: 400}
	r.jira.onCreate = func(context.Context) error { r.st.fail["RenewCOEIntent"] = errStore; return nil }
	if _, err := r.d.Draft(ctx, "PINC1"); !errors.Is(err, errStore) || StatusOf(err) != 400 {
		t.Fatalf("Draft error %v, want the refusal and the store's", err)
	}
	// The hook's own failure stops the attempt.
	r = newDraftRig(t, opsRoute)
	r.jira.onCreate = func(ctx context.Context) error { r.st.fail["RenewCOEIntent"] = errStore; return attempting(ctx) }
	if _, err := r.d.Draft(ctx, "PINC1"); !errors.Is(err, errStore) {
		t.Fatalf("Draft error %v, want the hook's", err)
	}
}

// The note on the incident is added once: a note already there is
// recognised, an earlier attempt's may still land, a refused one clears
// its intent, and intent-store errors stop the add.
func TestDraftNoteOnIncident(t *testing.T) {
	ctx := context.Background()
	const url = "https://jira.example/browse/OPS-1"
	key := "note:intent:PINC1"
	t.Run("added once", func(t *testing.T) {
		r := newDraftRig(t, opsRoute)
		r.d.NoteOnIncident, r.d.NoteSettle = true, time.Minute
		for range 2 {
			if _, err := r.d.Draft(ctx, "PINC1"); err != nil {
				t.Fatal(err)
			}
		}
		if len(r.pd.added) != 1 || r.pd.added[0] != "COE draft OPS-1: "+url {
			t.Fatalf("notes added %q", r.pd.added)
		}
		if r.coe(t).NotedAt.IsZero() {
			t.Fatal("note not marked")
		}
	})
	t.Run("already there", func(t *testing.T) {
		r := newDraftRig(t, opsRoute)
		r.d.NoteOnIncident = true
		r.pd.notes = []coe.Note{{Content: "see " + url}}
		if _, err := r.d.Draft(ctx, "PINC1"); err != nil {
			t.Fatal(err)
		}
		if len(r.pd.added) != 0 || r.coe(t).NotedAt.IsZero() {
			t.Fatalf("added %q, noted %v", r.pd.added, r.coe(t).NotedAt)
		}
	})
	t.Run("may still land", func(t *testing.T) {
		r := newDraftRig(t, opsRoute)
		r.d.NoteOnIncident, r.d.NoteSettle = true, time.Minute
		r.pd.noteErr = &Error{Kind: Retryable, Service: "pagerduty"}
		if _, err := r.d.Draft(ctx, "PINC1"); err == nil {
			t.Fatal("a failed note succeeded")
		}
		r.pd.noteErr = nil
		r.now = r.now.Add(20 * time.Second)
		var we *WaitError
		if _, err := r.d.Draft(ctx, "PINC1"); !errors.As(err, &we) || we.Wait != 40*time.Second {
			t.Fatalf("retry inside the window: %v, want a wait of 40s", err)
		}
		r.now = r.now.Add(40 * time.Second)
		if _, err := r.d.Draft(ctx, "PINC1"); err != nil || len(r.pd.added) != 1 {
			t.Fatalf("retry after the window: %v, %d notes", err, len(r.pd.added))
		}
	})
	t.Run("refused clears", func(t *testing.T) {
		r := newDraftRig(t, opsRoute)
		r.d.NoteOnIncident, r.d.NoteSettle = true, time.Minute
		r.pd.noteErr = &Error{Kind: Permanent, Service: "pagerduty", Status: 400}
		if _, err := r.d.Draft(ctx, "PINC1"); StatusOf(err) != 400 {
			t.Fatalf("Draft error %v", err)
		}
		if v, _ := r.st.SQLite.State(ctx, key); v != "" {
			t.Fatalf("intent %q after a refusal", v)
		}
		r.pd.noteErr = nil
		if _, err := r.d.Draft(ctx, "PINC1"); err != nil || len(r.pd.added) != 1 {
			t.Fatalf("retry: %v, %d notes", err, len(r.pd.added))
		}
	})
	for _, method := range []string{"State", "SetState"} {
		t.Run(method+" fails", func(t *testing.T) {
			r := newDraftRig(t, opsRoute)
			r.d.NoteOnIncident = true
			r.st.fail[method] = errStore
			if _, err := r.d.Draft(ctx, "PINC1"); !errors.Is(err, errStore) {
				t.Fatalf("Draft error %v, want the store's", err)
			}
			if len(r.pd.added) != 0 || !r.coe(t).NotedAt.IsZero() {
				t.Fatalf("note added (%q) without its intent", r.pd.added)
			}
		})
	}
}

// lookupCounter is the store behind a HistoryFinder, counting lookups.
type lookupCounter struct {
	HistoryStore
	lookups int
}

func (c *lookupCounter) EarlierCOEs(context.Context, store.EarlierQuery) ([]store.COE, error) {
	c.lookups++
	return nil, nil
}

// Earlier COEs are looked up for the ticket's description only: not once
// the ticket exists, and not for an incident a rule skips.
func TestDraftLooksUpHistoryOnlyToCreate(t *testing.T) {
	ctx := context.Background()
	r := newDraftRig(t, opsRoute)
	h := &lookupCounter{}
	r.d.History = &HistoryFinder{Store: h, Log: slog.New(slog.DiscardHandler)}
	if _, err := r.d.Draft(ctx, "PINC1"); err != nil || h.lookups != 1 {
		t.Fatalf("create: %v, %d lookups; want 1", err, h.lookups)
	}
	if out, err := r.d.Draft(ctx, "PINC1"); err != nil || out != OutcomeExists || h.lookups != 1 {
		t.Fatalf("exists: %q, %v, %d lookups; want still 1", out, err, h.lookups)
	}
	if _, _, err := r.d.BuildDraft(ctx, "PINC2"); err != nil || h.lookups != 2 {
		t.Fatalf("preview: %v, %d lookups; want 2", err, h.lookups)
	}
	skip := opsRoute
	skip.Skip = true
	r.d.Router = fixedRoute(skip)
	if out, err := r.d.Draft(ctx, "PINC3"); err != nil || out != OutcomeSkipped || h.lookups != 2 {
		t.Fatalf("skipped: %q, %v, %d lookups; want still 2", out, err, h.lookups)
	}
}

// A rule's repository is recorded on the COE; the default one is not (the
// item's own repo label may then choose).
func TestDraftRecordsARulesRepo(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ route, want string }{{"acme/other", "acme/other"}, {"acme/api", ""}} {
		route := opsRoute
		route.GitHubRepo = tc.route
		r := newDraftRig(t, route)
		r.d.DefaultRepo = "acme/api"
		if _, err := r.d.Draft(ctx, "PINC1"); err != nil {
			t.Fatal(err)
		}
		if got := r.coe(t).Repo; got != tc.want {
			t.Errorf("route repo %s: recorded %q, want %q", tc.route, got, tc.want)
		}
	}
}

// Failures before the create are returned and nothing is recorded.
func TestDraftFailsBeforeTheCreate(t *testing.T) {
	ctx := context.Background()
	r := newDraftRig(t, opsRoute)
	r.st.fail["COE"] = errStore
	if _, err := r.d.Draft(ctx, "PINC1"); !errors.Is(err, errStore) {
		t.Fatalf("store error: %v", err)
	}
	r = newDraftRig(t, opsRoute)
	gone := &Error{Kind: Permanent, Service: "pagerduty", Status: 404}
	r.pd.incErr = gone
	if _, err := r.d.Draft(ctx, "PINC1"); StatusOf(err) != 404 || !strings.Contains(err.Error(), "fetch incident PINC1") {
		t.Fatalf("fetch error: %v", err)
	}
	if _, _, err := r.d.BuildDraft(ctx, "PINC1"); StatusOf(err) != 404 {
		t.Fatalf("preview fetch error: %v", err)
	}
	if _, err := r.st.SQLite.COE(ctx, "PINC1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a record after a failed fetch: %v", err)
	}
	if len(r.jira.specs) != 0 {
		t.Fatal("created after a failure")
	}
}

// Without a settle window an empty search is the truth at once, even for
// an intent stamped ahead of this clock (another node's clock).
func TestDraftRecoverWithoutASettleWindow(t *testing.T) {
	ctx := context.Background()
	r := newDraftRig(t, opsRoute)
	r.d.SearchSettle = 0
	if _, _, err := r.st.SQLite.BeginCOE(ctx, store.COE{IncidentID: "PINC1", Label: coe.IncidentLabel("PINC1"), IntentAt: draftT0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if out, err := r.d.Draft(ctx, "PINC1"); err != nil || out != OutcomeCreated {
		t.Fatalf("Draft = %q, %v; want created", out, err)
	}
	if r.jira.searches != 1 || !r.now.Equal(draftT0) {
		t.Fatalf("%d searches, slept %v; want one search and no wait", r.jira.searches, r.now.Sub(draftT0))
	}
}
