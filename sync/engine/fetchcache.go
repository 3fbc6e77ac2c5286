package engine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/coesync/coesync/sync/coe"
)

// FetchedMaxAge bounds how long an attempt of the draft job reuses the
// incident and log entries an earlier attempt fetched: a resolved
// incident's record and timeline change rarely, and a retry comes within
// seconds to minutes, so the next attempt need not ask PagerDuty again
// (and fail on it again) while the failure it retries was elsewhere.
const FetchedMaxAge = 10 * time.Minute

// fetchedKey is the key/value state key of an incident's fetched data.
func fetchedKey(incidentID string) string { return "draft:fetched:" + incidentID }

// cachedFetch is what an attempt that failed after fetching keeps for the
// next one. Notes are not kept: responders still add "Action:" notes
// after the resolve, and the note-once check (followUp) must see the
// current list, or a note an earlier attempt added that landed late would
// be added a second time. Notes are one short read.
type cachedFetch struct {
	At       time.Time      `json:"at"`
	Incident coe.Incident   `json:"incident"`
	Log      []coe.LogEntry `json:"log"`
}

// loadFetched returns the incident and log entries kept for incidentID by
// an earlier attempt no older than FetchedMaxAge. A missing, unreadable or
// stale copy is no copy: the caller fetches again.
func (d *Drafter) loadFetched(ctx context.Context, incidentID string) (cachedFetch, bool) {
	v, err := d.Store.State(ctx, fetchedKey(incidentID))
	if err != nil || v == "" {
		return cachedFetch{}, false
	}
	var c cachedFetch
	if err := json.Unmarshal([]byte(v), &c); err != nil || c.Incident.ID != incidentID {
		return cachedFetch{}, false
	}
	if age := d.now().Sub(c.At); age < 0 || age > FetchedMaxAge {
		return cachedFetch{}, false
	}
	return c, true
}

// keepFetched stores f's incident and log entries for the next attempt
// of the job, unless they came from an earlier attempt's copy (which keeps
// its own time, so that a copy ages out). Errors are logged: the copy only
// saves calls.
func (d *Drafter) keepFetched(ctx context.Context, f fetched) {
	if f.cached || f.inc.ID == "" {
		return
	}
	b, err := json.Marshal(cachedFetch{At: f.at, Incident: f.inc, Log: f.log})
	if err == nil {
		err = d.Store.SetState(context.WithoutCancel(ctx), fetchedKey(f.inc.ID), string(b))
	}
	if err != nil {
		d.Log.Warn("could not keep the fetched incident for the next attempt", "incident", f.inc.ID, "err", err)
	}
}

// dropFetched clears the copy once the job has done its work (the key
// stays, empty: the store's key/value state has no delete).
func (d *Drafter) dropFetched(ctx context.Context, f fetched) {
	if !f.cached {
		return
	}
	if err := d.Store.SetState(context.WithoutCancel(ctx), fetchedKey(f.inc.ID), ""); err != nil {
		d.Log.Warn("could not clear the fetched incident", "incident", f.inc.ID, "err", err)
	}
}
