package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

// Defaults of HistoryFinder.
const (
	DefaultRecurrenceWindow = 90 * 24 * time.Hour
	// DefaultEarlierLimit is how many earlier COEs a COE lists.
	DefaultEarlierLimit = 5
	// maxJiraOnly bounds the COEs found only in Jira that are read in
	// detail (two calls each).
	maxJiraOnly = 3
	// DefaultJiraCacheTTL is how long a service's answer from Jira is
	// reused: a storm of incidents of one service searches Jira once.
	DefaultJiraCacheTTL = 10 * time.Minute
	// historySinceKey is the store state key holding when coesync first
	// looked for earlier COEs: from then on its store has every COE it
	// created, and once that covers the window Jira is not asked.
	historySinceKey = "history:since"
)

// HistoryStore is the part of the store HistoryFinder reads.
type HistoryStore interface {
	EarlierCOEs(ctx context.Context, q store.EarlierQuery) ([]store.COE, error)
	ActionItems(ctx context.Context, coeKey string) ([]store.ActionItem, error)
	State(ctx context.Context, key string) (string, error)
	SetState(ctx context.Context, key, value string) error
}

// JiraHistory reads COEs that coesync's store does not know from Jira.
type JiraHistory interface {
	FindByLabel(ctx context.Context, label string) ([]coe.TicketRef, error)
	GetItem(ctx context.Context, key string) (coe.JiraItem, error)
	Subtasks(ctx context.Context, parentKey string) ([]coe.JiraItem, error)
}

// HistoryFinder looks for earlier COEs of an incident's PagerDuty service
// or incident key: in the store first (it is the truth for what coesync
// created), then, only when the store knows none and has not been keeping
// COEs for the whole window yet, in Jira by the service's label
// (pd-service-<id>; Jira's search is eventually consistent, so it is the
// fallback for COEs from before coesync, not the primary source). A
// service's Jira answer is reused for JiraCacheTTL, so that a storm of
// incidents costs one search per service, not one per incident.
type HistoryFinder struct {
	Store HistoryStore
	// Jira may be nil: the store alone is searched.
	Jira JiraHistory
	// Window is COESYNC_RECURRENCE_WINDOW; zero means DefaultRecurrenceWindow.
	Window time.Duration
	// Limit is how many earlier COEs are listed; zero means DefaultEarlierLimit.
	Limit int
	// JiraCacheTTL: zero means DefaultJiraCacheTTL, negative no cache.
	JiraCacheTTL time.Duration
	Log          *slog.Logger

	mu    sync.Mutex
	cache map[string]*jiraAnswer // by service ID
}

// jiraAnswer is one Jira lookup of a service, shared by concurrent callers
// and reused until expires.
type jiraAnswer struct {
	done    chan struct{}
	found   []jiraEarlier
	err     error
	expires time.Time
}

func (h *HistoryFinder) window() time.Duration {
	if h.Window > 0 {
		return h.Window
	}
	return DefaultRecurrenceWindow
}

func (h *HistoryFinder) limit() int {
	if h.Limit > 0 {
		return h.Limit
	}
	return DefaultEarlierLimit
}

// Find returns the earlier COEs of inc, newest first: those of incidents
// triggered before inc, never of later ones (a backfill reviews old
// incidents after newer ones were reviewed). A store failure is
// returned (the job retries); a Jira failure is returned when strict and
// not permanent, else noted in History.Failed.
func (h *HistoryFinder) Find(ctx context.Context, inc coe.Incident, strict bool, now time.Time) (coe.History, error) {
	if h == nil || h.Store == nil {
		return coe.History{}, nil
	}
	out := coe.History{Searched: true, Window: h.window()}
	ref := inc.CreatedAt
	if ref.IsZero() {
		ref = now
	}
	since := ref.Add(-h.window())
	// One more than the limit: the incident's own COE may be among them.
	recs, err := h.Store.EarlierCOEs(ctx, store.EarlierQuery{ServiceID: inc.ServiceID, IncidentKey: inc.IncidentKey,
		Number: inc.Number, TriggeredAt: ref, Limit: h.limit() + 1})
	if err != nil {
		return coe.History{}, fmt.Errorf("earlier COEs of incident %s: %w", inc.ID, err)
	}
	for _, r := range recs {
		if r.IncidentID == inc.ID || len(out.Earlier) == h.limit() {
			continue
		}
		e := coe.EarlierCOE{
			TicketKey: r.TicketKey, TicketURL: r.TicketURL, Title: r.Title, IncidentID: r.IncidentID,
			IncidentNumber: r.IncidentNumber, IncidentURL: r.IncidentURL, CreatedAt: r.CreatedAt,
			SameService: inc.ServiceID != "" && r.ServiceID == inc.ServiceID,
			SameKey:     inc.IncidentKey != "" && r.IncidentKey == inc.IncidentKey,
			InWindow:    r.CreatedAt.After(since),
		}
		items, err := h.Store.ActionItems(ctx, r.TicketKey)
		if err != nil {
			return coe.History{}, fmt.Errorf("action items of earlier COE %s: %w", r.TicketKey, err)
		}
		e.ItemsKnown = true
		for _, it := range items {
			switch {
			case it.State == store.MirrorGone:
			case it.Closed:
				e.DoneItems++
			default:
				e.OpenItems++
				e.Open = append(e.Open, coe.EarlierItem{Key: it.JiraKey, Summary: it.Title, URL: it.IssueURL, Owner: it.Owner, Due: it.Due})
			}
		}
		out.Earlier = append(out.Earlier, e)
	}
	if len(out.Earlier) > 0 || h.Jira == nil || inc.ServiceID == "" {
		return out, nil
	}
	complete, err := h.storeCovers(ctx, now)
	if err != nil || complete {
		return out, err
	}
	found, err := h.jiraCached(ctx, inc, now)
	own := coe.IncidentLabel(inc.ID)
	for _, e := range found {
		if len(out.Earlier) == maxJiraOnly {
			break
		}
		if e.ownLabel == own {
			continue // this incident's own ticket, from an interrupted create
		}
		if !e.CreatedAt.Before(ref) {
			// Jira does not say when the ticket's incident triggered; one
			// created since inc triggered may be of a later incident.
			continue
		}
		e.InWindow = !e.CreatedAt.IsZero() && e.CreatedAt.After(since)
		out.Earlier = append(out.Earlier, e.EarlierCOE)
	}
	if err != nil {
		if kind, _ := Classify(err); strict && kind != Permanent {
			return coe.History{}, fmt.Errorf("earlier COEs of incident %s in Jira: %w", inc.ID, err)
		}
		h.log().Warn("could not look for earlier COEs in Jira; the COE says so", "incident", inc.ID, "err", err)
		out.Failed = "Jira: " + failureReason(err)
	}
	return out, nil
}

// storeCovers reports whether the store has been keeping COEs for the
// whole recurrence window, recording the first call's time.
func (h *HistoryFinder) storeCovers(ctx context.Context, now time.Time) (bool, error) {
	v, err := h.Store.State(ctx, historySinceKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("read %s: %w", historySinceKey, err)
	}
	if t, perr := time.Parse(time.RFC3339, v); err == nil && perr == nil {
		return !t.After(now.Add(-h.window())), nil
	}
	if err := h.Store.SetState(ctx, historySinceKey, now.UTC().Format(time.RFC3339)); err != nil {
		return false, fmt.Errorf("record %s: %w", historySinceKey, err)
	}
	return false, nil
}

// jiraEarlier is a COE found in Jira with the incident label it carries.
type jiraEarlier struct {
	coe.EarlierCOE
	ownLabel string // its pd-incident- label
}

// jiraCached returns fromJira's answer for inc's service, shared with
// concurrent callers and reused for JiraCacheTTL. A failure is not cached.
func (h *HistoryFinder) jiraCached(ctx context.Context, inc coe.Incident, now time.Time) ([]jiraEarlier, error) {
	ttl := h.JiraCacheTTL
	if ttl == 0 {
		ttl = DefaultJiraCacheTTL
	}
	if ttl < 0 {
		return h.fromJira(ctx, inc)
	}
	h.mu.Lock()
	if h.cache == nil {
		h.cache = map[string]*jiraAnswer{}
	}
	a := h.cache[inc.ServiceID]
	if a != nil {
		select {
		case <-a.done:
			if a.err != nil || now.After(a.expires) {
				a = nil
			}
		default: // in flight: wait for it
		}
	}
	if a != nil {
		h.mu.Unlock()
		select {
		case <-a.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if a.err != nil {
			return nil, a.err
		}
		return jiraCopy(a.found), nil
	}
	a = &jiraAnswer{done: make(chan struct{}), expires: now.Add(ttl)}
	h.cache[inc.ServiceID] = a
	h.mu.Unlock()
	found, err := h.fromJira(ctx, inc)
	a.found, a.err = jiraCopy(found), err
	close(a.done)
	return found, err
}

func jiraCopy(in []jiraEarlier) []jiraEarlier {
	out := make([]jiraEarlier, len(in))
	for i, e := range in {
		e.Open = append([]coe.EarlierItem(nil), e.Open...)
		out[i] = e
	}
	return out
}

// fromJira finds the newest COEs labelled with inc's service.
func (h *HistoryFinder) fromJira(ctx context.Context, inc coe.Incident) ([]jiraEarlier, error) {
	refs, err := h.Jira.FindByLabel(ctx, coe.ServiceLabel(inc.ServiceID))
	if err != nil {
		return nil, fmt.Errorf("find COEs labelled %s: %w", coe.ServiceLabel(inc.ServiceID), err)
	}
	// FindByLabel returns the oldest first; the newest matter most. One
	// more than the limit: the incident's own ticket may be among them.
	slices.Reverse(refs)
	var out []jiraEarlier
	for _, ref := range refs {
		if len(out) == maxJiraOnly+1 {
			break
		}
		it, err := h.Jira.GetItem(ctx, ref.Key)
		if StatusOf(err) == 404 {
			continue // deleted since the search
		}
		if err != nil {
			return out, fmt.Errorf("read earlier COE %s: %w", ref.Key, err)
		}
		e := jiraEarlier{EarlierCOE: coe.EarlierCOE{TicketKey: it.Key, TicketURL: it.URL, Title: it.Summary,
			CreatedAt: it.Created, SameService: true, FromJira: true}}
		for _, l := range it.Labels {
			if strings.HasPrefix(l, "pd-incident-") {
				e.ownLabel = l
			}
		}
		if e.TicketURL == "" {
			e.TicketURL = ref.URL
		}
		subs, err := h.Jira.Subtasks(ctx, it.Key)
		if err != nil {
			return out, fmt.Errorf("read action items of earlier COE %s: %w", it.Key, err)
		}
		e.ItemsKnown = true
		for _, s := range subs {
			if s.Done {
				e.DoneItems++
				continue
			}
			e.OpenItems++
			e.Open = append(e.Open, coe.EarlierItem{Key: s.Key, Summary: s.Summary, URL: s.URL, Owner: s.AssigneeName, Due: s.Due})
		}
		out = append(out, e)
	}
	return out, nil
}

func (h *HistoryFinder) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.DiscardHandler)
}

// historyLabels are the labels that let a later COE find this one in Jira
// (its service's) and mark a recurrence.
func historyLabels(d coe.Draft) []string {
	var out []string
	if d.Incident.ServiceID != "" {
		out = append(out, coe.ServiceLabel(d.Incident.ServiceID))
	}
	if d.History.IsRecurrence() {
		out = append(out, coe.RecurrenceLabel)
	}
	return out
}
