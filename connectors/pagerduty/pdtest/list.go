package pdtest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// wireIncidentPage is listIncidents' 200 body: Pagination plus incidents.
type wireIncidentPage struct {
	Incidents []wireIncident `json:"incidents"`
	Limit     int            `json:"limit"`
	Offset    int            `json:"offset"`
	More      bool           `json:"more"`
	Total     *int           `json:"total"`
}

// maxRange is PagerDuty's limit on since..until ("Maximum range is 6 months").
const maxRange = 6 * 31 * 24 * time.Hour

var validStatuses = map[string]bool{"triggered": true, "acknowledged": true, "resolved": true}

// listIncidents serves GET /incidents as PagerDuty documents it: since and
// until (ISO 8601; default the last month; at most six months apart;
// date_range=all ignores them) filter on created_at, statuses[] (repeated)
// on status, offset/limit (default 25, at most 100) page, total=true
// counts. Incidents come oldest first.
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	bad := func(msg string) {
		writeError(w, http.StatusBadRequest, wireError{Message: "Invalid Input Provided", Code: 2001, Errors: []string{msg}})
	}
	offset, err1 := intParam(q, "offset", 0)
	limit, err2 := intParam(q, "limit", 25)
	if err1 != nil || err2 != nil || offset < 0 || limit < 1 {
		bad("offset and limit must be non-negative integers, limit at least 1")
		return
	}
	limit = min(limit, 100)
	statuses := q["statuses[]"]
	for _, st := range statuses {
		if !validStatuses[st] {
			bad("Statuses must be one of triggered, acknowledged, resolved")
			return
		}
	}
	until, since := time.Now().UTC(), time.Time{}
	all := q.Get("date_range") == "all"
	if !all {
		var err error
		if v := q.Get("until"); v != "" {
			if until, err = parseISO(v); err != nil {
				bad("Until is not a valid date")
				return
			}
		}
		since = until.AddDate(0, -1, 0)
		if v := q.Get("since"); v != "" {
			if since, err = parseISO(v); err != nil {
				bad("Since is not a valid date")
				return
			}
		}
		if until.Before(since) {
			bad("Since must be before until")
			return
		}
		if until.Sub(since) > maxRange {
			bad("Date range is greater than 6 months")
			return
		}
	}

	s.mu.Lock()
	var match []*Incident
	for _, fx := range s.incidents {
		if len(statuses) > 0 && !slices.Contains(statuses, fx.Status) {
			continue
		}
		created := fx.CreatedAt
		if !all && (created.Before(since) || !created.Before(until)) {
			continue
		}
		match = append(match, fx)
	}
	slices.SortFunc(match, func(a, b *Incident) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	lo, hi := min(offset, len(match)), min(offset+limit, len(match))
	page := wireIncidentPage{Incidents: make([]wireIncident, 0, hi-lo), Limit: limit, Offset: offset, More: hi < len(match)}
	for _, fx := range match[lo:hi] {
		page.Incidents = append(page.Incidents, renderIncident(fx))
	}
	if q.Get("total") == "true" {
		n := len(match)
		page.Total = &n
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, page)
}

func parseISO(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	_, err := time.Parse(time.RFC3339, v)
	return time.Time{}, err
}
