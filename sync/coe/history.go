package coe

import "time"

// EarlierCOE is a COE of an earlier incident of the same PagerDuty service
// or with the same incident key.
type EarlierCOE struct {
	TicketKey string // the COE's Jira key
	TicketURL string // the COE's Jira browse URL
	// Title is the incident's title (untrusted text); may be empty for a
	// COE found in Jira only.
	Title          string
	IncidentID     string // the earlier PagerDuty incident's ID
	IncidentNumber int    // its number; 0 when unknown
	IncidentURL    string // its PagerDuty page
	// CreatedAt is when the COE was created; zero when unknown.
	CreatedAt time.Time
	// SameKey: the earlier incident had the same incident_key;
	// SameService: the same service.
	SameKey, SameService bool
	// FromJira: found by label in Jira, unknown to coesync's store.
	FromJira bool
	// ItemsKnown says whether the action-item counts below are known.
	ItemsKnown bool
	OpenItems  int // action items still open
	DoneItems  int // action items done
	// Open are the action items still open (newest COE's first).
	Open []EarlierItem
	// InWindow: created within the recurrence window before this incident.
	InWindow bool
}

// EarlierItem is an open action item of an earlier COE.
type EarlierItem struct {
	Key     string    // the item's Jira key
	Summary string    // untrusted text
	URL     string    // Jira browse URL or the GitHub issue
	Owner   string    // untrusted text
	Due     time.Time // zero when none is set
}

// History is what coesync knows about earlier COEs of the same service or
// incident key.
type History struct {
	// Searched is false when nothing was looked up (preview of a draft
	// without a store, say): the COE then says nothing.
	Searched bool
	// Window is the recurrence window.
	Window time.Duration
	// Earlier COEs, newest first.
	Earlier []EarlierCOE
	// Failed explains a lookup that failed ("" when it worked); what was
	// found before the failure is still listed.
	Failed string
}

// Recurrence returns the newest earlier COE within the window: the one this
// COE repeats.
func (h History) Recurrence() (EarlierCOE, bool) {
	for _, e := range h.Earlier {
		if e.InWindow {
			return e, true
		}
	}
	return EarlierCOE{}, false
}

// IsRecurrence reports whether an earlier COE lies within the window.
func (h History) IsRecurrence() bool {
	_, ok := h.Recurrence()
	return ok
}

// StillOpen returns the earlier COEs within the window that still have open
// action items: the failure they were meant to prevent happened again.
func (h History) StillOpen() []EarlierCOE {
	var out []EarlierCOE
	for _, e := range h.Earlier {
		if e.InWindow && e.OpenItems > 0 {
			out = append(out, e)
		}
	}
	return out
}

// WithHistory returns d with its earlier COEs.
func (d Draft) WithHistory(h History) Draft {
	d.History = h
	return d
}

// RepeatOf is the earlier COE this one repeats (History.Recurrence), or nil;
// for templates.
func (d Draft) RepeatOf() *EarlierCOE {
	if e, ok := d.History.Recurrence(); ok {
		return &e
	}
	return nil
}
