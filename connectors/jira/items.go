package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

// What the action-item sync reads from Jira.
//
// Consistency. GET issue is strongly consistent; /search/jql is not: an
// issue created or edited seconds ago may be missing from it, or come back
// with old values. Subtasks and LinkedItems therefore take the list of items
// from the COE ticket itself (its subtasks field, its issuelinks field; one
// GET, which also gives each item's key, id, summary and status) and read
// the other fields the sync needs (assignee, due date, labels, links,
// updated) with one search per 50 items,
//
//	POST /rest/api/2/search/jql {"jql": "id in (…)", "reconcileIssues": [ids…]}
//
// reconcileIssues (at most 50 ids) makes Jira Cloud evaluate and return
// those issues with read-after-write consistency. Two calls in all for a
// COE with up to 50 items, where a GET per item would take 1+N. Whatever
// search leaves out (an item it still does not see, a Jira that ignores
// reconcileIssues, a search refused because an item was deleted meanwhile)
// or returns with a summary or status other than the strongly consistent
// ones is read with GET issue instead; an item gone by then (404) is left
// out. A lone `parent = KEY` search is never trusted for the list.
//
// Jira Data Center and Server have no /search/jql and no reconcileIssues:
// there every search is
//
//	POST /rest/api/2/search {"jql": "…", "startAt": n, "maxResults": 100, "fields": […]}
//
// (see searchVia in client.go), and the GET fallback above is what makes
// up for an index that lags.
//
// Time. JQL compares dates at minute precision, in the time zone of the
// calling user's profile. UpdatedSince reads that zone once an hour from
// /rest/api/2/myself, writes `updated >= "yyyy/MM/dd HH:mm"` in it, rounded
// down to the minute, and looks back UpdatedSinceMargin more for search's
// indexing lag and clock skew (and an hour or more near a DST change, where
// wall-clock times repeat). When the zone cannot be known it writes UTC and
// looks back a further 14 hours, enough for any zone.

// UpdatedSinceMargin is how far before since UpdatedSince looks: search's
// indexing lag (seconds, at times minutes) and clock skew between coesync
// and Jira.
const UpdatedSinceMargin = 5 * time.Minute

const (
	// maxReconcile is the most ids /search/jql reconciles in one call.
	maxReconcile = 50
	// unknownZoneMargin is added to the margin when the user's time zone is
	// unknown and JQL dates are written in UTC: UTC offsets reach ±14h.
	unknownZoneMargin = 14 * time.Hour
	// zoneTTL is how long the profile time zone is trusted.
	zoneTTL       = time.Hour
	jqlTimeLayout = "2006/01/02 15:04"
	// jiraTimeLayout is how Jira formats timestamps.
	jiraTimeLayout = "2006-01-02T15:04:05.000-0700"
	dateLayout     = "2006-01-02"
)

// itemFields are the fields read for a coe.JiraItem.
var itemFields = []string{"summary", "status", "issuetype", "project", "assignee", "duedate", "priority", "labels", "parent", "issuelinks", "created", "updated"}

var _ engine.ItemTracker = (*Client)(nil)

// ---- wire types: only what a JiraItem needs ----

type wireStatus struct {
	Name           string `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

// wireShort is the short issue form of subtasks, parent and issue links.
type wireShort struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Summary string      `json:"summary"`
		Status  *wireStatus `json:"status"`
	} `json:"fields"`
}

type wireLink struct {
	Type struct {
		Name string `json:"name"`
	} `json:"type"`
	InwardIssue  *wireShort `json:"inwardIssue"`
	OutwardIssue *wireShort `json:"outwardIssue"`
}

type wireItem struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Summary   string      `json:"summary"`
		Status    *wireStatus `json:"status"`
		IssueType *struct {
			Name    string `json:"name"`
			Subtask bool   `json:"subtask"`
		} `json:"issuetype"`
		Project *struct {
			Key string `json:"key"`
		} `json:"project"`
		Assignee *struct {
			AccountID    string `json:"accountId"`
			EmailAddress string `json:"emailAddress"`
			DisplayName  string `json:"displayName"`
		} `json:"assignee"`
		DueDate  *string `json:"duedate"`
		Priority *struct {
			Name string `json:"name"`
		} `json:"priority"`
		Labels []string `json:"labels"`
		Parent *struct {
			Key string `json:"key"`
		} `json:"parent"`
		IssueLinks []wireLink  `json:"issuelinks"`
		Subtasks   []wireShort `json:"subtasks"`
		Created    string      `json:"created"`
		Updated    string      `json:"updated"`
	} `json:"fields"`
}

// item translates an issue bean. Unparseable timestamps and dates are left
// zero rather than failing the read.
func (c *Client) item(w *wireItem) coe.JiraItem {
	return itemOf(w, c.ref(w.ID, w.Key).URL)
}

// itemOf translates an issue bean, with browse URL u.
func itemOf(w *wireItem, u string) coe.JiraItem {
	f := &w.Fields
	it := coe.JiraItem{
		ID:      w.ID,
		Key:     w.Key,
		URL:     u,
		Summary: f.Summary,
		Labels:  append([]string(nil), f.Labels...),
		Created: parseJiraTime(f.Created),
		Updated: parseJiraTime(f.Updated),
	}
	if f.Status != nil {
		it.Status = f.Status.Name
		it.Done = strings.EqualFold(f.Status.StatusCategory.Key, "done")
		it.Category = strings.ToLower(f.Status.StatusCategory.Key)
	}
	if f.IssueType != nil {
		it.IssueType, it.Subtask = f.IssueType.Name, f.IssueType.Subtask
	}
	if f.Project != nil {
		it.Project = f.Project.Key
	}
	if a := f.Assignee; a != nil {
		it.AssigneeID, it.AssigneeEmail, it.AssigneeName = a.AccountID, a.EmailAddress, a.DisplayName
	}
	if f.DueDate != nil {
		if d, err := time.ParseInLocation(dateLayout, strings.TrimSpace(*f.DueDate), time.UTC); err == nil {
			it.Due = d
		}
	}
	if f.Priority != nil {
		it.Priority = f.Priority.Name
	}
	if f.Parent != nil {
		it.Parent = f.Parent.Key
	}
	for _, l := range f.IssueLinks {
		switch {
		case l.OutwardIssue != nil:
			it.Links = append(it.Links, coe.JiraLink{Type: l.Type.Name, Key: l.OutwardIssue.Key, Outward: true})
		case l.InwardIssue != nil:
			it.Links = append(it.Links, coe.JiraLink{Type: l.Type.Name, Key: l.InwardIssue.Key})
		}
	}
	return it
}

func parseJiraTime(s string) time.Time {
	for _, layout := range []string{jiraTimeLayout, time.RFC3339Nano, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// ---- reads ----

// GetItem fetches one issue. A missing issue is a Permanent *engine.Error
// with Status 404.
func (c *Client) GetItem(ctx context.Context, key string) (coe.JiraItem, error) {
	if err := checkKey(key); err != nil {
		return coe.JiraItem{}, fmt.Errorf("jira: get %s: %w", key, err)
	}
	it, err := c.getItem(ctx, key)
	if err != nil {
		return coe.JiraItem{}, fmt.Errorf("jira: get %s: %w", key, err)
	}
	return it, nil
}

func (c *Client) getItem(ctx context.Context, key string) (coe.JiraItem, error) {
	var w wireItem
	if err := c.getIssue(ctx, key, itemFields, &w); err != nil {
		return coe.JiraItem{}, err
	}
	if w.Key == "" {
		return coe.JiraItem{}, errors.New("response has no issue key")
	}
	return c.item(&w), nil
}

// getIssue GETs an issue (key already checked) with only fields.
func (c *Client) getIssue(ctx context.Context, key string, fields []string, out any) error {
	q := url.Values{"fields": {strings.Join(fields, ",")}}
	return c.call(ctx, http.MethodGet, "rest/api/2/issue/"+key+"?"+q.Encode(), nil, out)
}

// call sends one request and decodes the JSON answer into out (when not nil).
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	req, err := c.api.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return c.cause(err)
	}
	resp, err := c.api.Do(req, out)
	if out == nil {
		closeBody(resp) // go-jira closes the body only when it decodes it
	}
	if err != nil {
		return c.cause(err)
	}
	return nil
}

// Subtasks returns the sub-tasks of parentKey in the parent's order. See
// the package notes on consistency: one GET of the parent and one search
// per 50 sub-tasks.
func (c *Client) Subtasks(ctx context.Context, parentKey string) ([]coe.JiraItem, error) {
	if err := checkKey(parentKey); err != nil {
		return nil, fmt.Errorf("jira: sub-tasks of %s: %w", parentKey, err)
	}
	var p wireItem
	if err := c.getIssue(ctx, parentKey, []string{"subtasks"}, &p); err != nil {
		return nil, fmt.Errorf("jira: sub-tasks of %s: %w", parentKey, err)
	}
	items, err := c.itemsFor(ctx, p.Fields.Subtasks)
	if err != nil {
		return nil, fmt.Errorf("jira: sub-tasks of %s: %w", parentKey, err)
	}
	return items, nil
}

// LinkedItems returns the issues linked to coeKey through a link type named
// linkType (any when empty), in either direction, that carry label (any
// when empty), in the order of the COE's links.
func (c *Client) LinkedItems(ctx context.Context, coeKey, linkType, label string) ([]coe.JiraItem, error) {
	if err := checkKey(coeKey); err != nil {
		return nil, fmt.Errorf("jira: items linked to %s: %w", coeKey, err)
	}
	var p wireItem
	if err := c.getIssue(ctx, coeKey, []string{"issuelinks"}, &p); err != nil {
		return nil, fmt.Errorf("jira: items linked to %s: %w", coeKey, err)
	}
	linkType = strings.TrimSpace(linkType)
	var refs []wireShort
	for _, l := range p.Fields.IssueLinks {
		if linkType != "" && !strings.EqualFold(strings.TrimSpace(l.Type.Name), linkType) {
			continue
		}
		other := l.OutwardIssue
		if other == nil {
			other = l.InwardIssue
		}
		if other != nil {
			refs = append(refs, *other)
		}
	}
	items, err := c.itemsFor(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("jira: items linked to %s: %w", coeKey, err)
	}
	if label == "" {
		return items, nil
	}
	out := items[:0]
	for _, it := range items {
		if it.HasLabel(label) {
			out = append(out, it)
		}
	}
	return out, nil
}

// itemsFor reads the full items for refs, taken from a strongly consistent
// source, in refs' order (duplicates dropped): a reconciled search per 50,
// then GET for whatever search missed or returned stale. Items that no
// longer exist are left out.
func (c *Client) itemsFor(ctx context.Context, refs []wireShort) ([]coe.JiraItem, error) {
	seen := map[string]bool{}
	uniq := refs[:0:0]
	for _, r := range refs {
		id := firstOf(r.ID, r.Key)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		uniq = append(uniq, r)
	}
	found := map[string]coe.JiraItem{} // by id
	for start := 0; start < len(uniq); start += maxReconcile {
		chunk := uniq[start:min(start+maxReconcile, len(uniq))]
		var ids []int64
		var list []string
		for _, r := range chunk {
			if n, err := strconv.ParseInt(r.ID, 10, 64); err == nil && n > 0 {
				ids = append(ids, n)
				list = append(list, r.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		items, err := c.search(ctx, "id in ("+strings.Join(list, ", ")+")", ids)
		if err != nil {
			// Jira refuses JQL naming an issue that no longer exists
			// (400): read these one by one instead.
			if engine.StatusOf(err) == http.StatusBadRequest {
				continue
			}
			return nil, err
		}
		for _, it := range items {
			found[it.ID] = it
		}
	}
	out := make([]coe.JiraItem, 0, len(uniq))
	for _, r := range uniq {
		if it, ok := found[r.ID]; ok && current(it, r) {
			out = append(out, it)
			continue
		}
		key := firstOf(r.ID, r.Key)
		if checkKey(key) != nil {
			return nil, engine.Permanently(fmt.Errorf("invalid issue reference %q", key))
		}
		it, err := c.getItem(ctx, key)
		if engine.StatusOf(err) == http.StatusNotFound {
			continue // deleted since the list was read
		}
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", firstOf(r.Key, r.ID), err)
		}
		out = append(out, it)
	}
	return out, nil
}

// current reports whether a searched item agrees with the strongly
// consistent short form on what both have.
func current(it coe.JiraItem, r wireShort) bool {
	if r.Key != "" && r.Key != it.Key {
		return false
	}
	if r.Fields.Summary != "" && r.Fields.Summary != it.Summary {
		return false
	}
	return r.Fields.Status == nil || r.Fields.Status.Name == it.Status
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

type searchRequest struct {
	JQL             string   `json:"jql"`
	Fields          []string `json:"fields"`
	MaxResults      int      `json:"maxResults"`
	NextPageToken   string   `json:"nextPageToken,omitempty"`
	ReconcileIssues []int64  `json:"reconcileIssues,omitempty"`
}

type searchResponse struct {
	Issues        []wireItem `json:"issues"`
	NextPageToken string     `json:"nextPageToken"`
	IsLast        bool       `json:"isLast"`
}

// classicSearchRequest is the body of Data Center's POST /search, which
// refuses members it does not know (reconcileIssues among them).
type classicSearchRequest struct {
	JQL        string   `json:"jql"`
	StartAt    int      `json:"startAt"`
	MaxResults int      `json:"maxResults"`
	Fields     []string `json:"fields"`
}

type classicSearchResponse struct {
	StartAt int        `json:"startAt"`
	Total   int        `json:"total"`
	Issues  []wireItem `json:"issues"`
}

// search runs jql, all pages, with itemFields: through POST /search/jql,
// reconciling the issues of reconcile, or on Data Center through POST
// /search, without (see searchVia).
func (c *Client) search(ctx context.Context, jql string, reconcile []int64) ([]coe.JiraItem, error) {
	var items []coe.JiraItem
	err := c.searchVia(
		func() (err error) { items, err = c.searchJQL(ctx, jql, reconcile); return err },
		func() (err error) { items, err = c.searchClassic(ctx, jql); return err },
	)
	if err != nil {
		return nil, err
	}
	return items, nil
}

func (c *Client) searchJQL(ctx context.Context, jql string, reconcile []int64) ([]coe.JiraItem, error) {
	var set itemSet
	token := ""
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("search %q: more than %d pages", jql, maxPages)
		}
		var resp searchResponse
		body := searchRequest{JQL: jql, Fields: itemFields, MaxResults: pageSize, NextPageToken: token, ReconcileIssues: reconcile}
		if err := c.call(ctx, http.MethodPost, pathSearchJQL, body, &resp); err != nil {
			return nil, searchJQLFailed(page, err)
		}
		set.add(c, resp.Issues)
		if resp.IsLast || resp.NextPageToken == "" {
			return set.items, nil
		}
		if resp.NextPageToken == token {
			return nil, fmt.Errorf("search %q: search/jql repeated its page token", jql)
		}
		token = resp.NextPageToken
	}
}

func (c *Client) searchClassic(ctx context.Context, jql string) ([]coe.JiraItem, error) {
	var set itemSet
	start := 0
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("search %q: more than %d pages", jql, maxPages)
		}
		var resp classicSearchResponse
		body := classicSearchRequest{JQL: jql, StartAt: start, MaxResults: pageSize, Fields: itemFields}
		if err := c.call(ctx, http.MethodPost, pathSearch, body, &resp); err != nil {
			return nil, err
		}
		set.add(c, resp.Issues)
		next, more, err := nextStart(start, resp.StartAt, len(resp.Issues), resp.Total)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", jql, err)
		}
		if !more {
			return set.items, nil
		}
		start = next
	}
}

// itemSet collects search results in order. An issue seen twice (pages are
// not a snapshot) is kept as last updated.
type itemSet struct {
	items []coe.JiraItem
	at    map[string]int // index in items by key
}

func (s *itemSet) add(c *Client, ws []wireItem) {
	if s.at == nil {
		s.at = map[string]int{}
	}
	for i := range ws {
		w := &ws[i]
		if w.Key == "" {
			continue
		}
		it := c.item(w)
		if j, ok := s.at[it.Key]; ok {
			if it.Updated.After(s.items[j].Updated) {
				s.items[j] = it
			}
			continue
		}
		s.at[it.Key] = len(s.items)
		s.items = append(s.items, it)
	}
}

// UpdatedSince returns the issues of project updated at or after since,
// looking back UpdatedSinceMargin more (see the package notes on time), in
// creation order. A zero since returns every issue of the project.
func (c *Client) UpdatedSince(ctx context.Context, project string, since time.Time) ([]coe.JiraItem, error) {
	if strings.TrimSpace(project) == "" {
		return nil, engine.Permanently(errors.New("jira: issues updated since: empty project"))
	}
	jql := "project = " + QuoteJQL(project)
	if !since.IsZero() {
		loc, extra, err := c.searchZone(ctx)
		if err != nil {
			return nil, fmt.Errorf("jira: issues of %s updated since %s: time zone: %w", project, since.Format(time.RFC3339), err)
		}
		jql += " AND updated >= " + QuoteJQL(JQLTime(since.Add(-UpdatedSinceMargin-extra), loc))
	}
	// created never changes, so an issue updated while the pages are read
	// cannot jump over a page boundary as it could with ORDER BY updated.
	jql += " ORDER BY created ASC, key ASC"
	items, err := c.search(ctx, jql, nil)
	if err != nil {
		return nil, fmt.Errorf("jira: issues of %s updated since %s: %w", project, since.Format(time.RFC3339), err)
	}
	return items, nil
}

// JQLTime writes t as a JQL date, "yyyy/MM/dd HH:mm", in loc, never later
// than t as Jira will read it: seconds are dropped (rounding down), and
// within two hours of a change of loc's UTC offset (DST), where a
// wall-clock time may be read as the later of two instants, t is moved
// back three hours first.
func JQLTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	_, before := t.Add(-2 * time.Hour).Zone()
	_, after := t.Add(2 * time.Hour).Zone()
	if before != after {
		t = t.Add(-3 * time.Hour)
	}
	return t.Format(jqlTimeLayout)
}

// zoneCache holds the time zone of the API user's profile, in which Jira
// reads JQL dates.
type zoneCache struct {
	mu    sync.Mutex
	loc   *time.Location
	extra time.Duration // added margin when loc is a guess
	until time.Time
}

// searchZone returns the zone to write JQL dates in and the extra margin
// that zone needs: the profile zone and 0, or UTC and unknownZoneMargin when
// Jira does not say or names a zone this system does not know. Only a
// transient failure to ask is an error.
func (c *Client) searchZone(ctx context.Context) (*time.Location, time.Duration, error) {
	z := &c.zone
	z.mu.Lock()
	defer z.mu.Unlock()
	now := time.Now()
	if z.loc != nil && now.Before(z.until) {
		return z.loc, z.extra, nil
	}
	var me struct {
		TimeZone string `json:"timeZone"`
	}
	err := c.call(ctx, http.MethodGet, "rest/api/2/myself", nil, &me)
	if err != nil {
		if k, _ := engine.Classify(err); k != engine.Permanent {
			return nil, 0, err
		}
	}
	z.loc, z.extra = time.UTC, unknownZoneMargin
	if err == nil && me.TimeZone != "" {
		if loc, lerr := time.LoadLocation(me.TimeZone); lerr == nil {
			z.loc, z.extra = loc, 0
		}
	}
	z.until = now.Add(zoneTTL)
	return z.loc, z.extra, nil
}

// ---- writes ----

// EditItem sets the summary and the due date of the issue; nil leaves a
// field alone and a zero *due clears the due date. The due date is the
// calendar date of *due in its own location.
func (c *Client) EditItem(ctx context.Context, key string, summary *string, due *time.Time) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("jira: edit %s: %w", key, err)
	}
	fields := map[string]any{}
	if summary != nil {
		fields["summary"] = *summary
	}
	if due != nil {
		if due.IsZero() {
			fields["duedate"] = nil
		} else {
			fields["duedate"] = due.Format(dateLayout)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	if err := c.call(ctx, http.MethodPut, "rest/api/2/issue/"+key, map[string]any{"fields": fields}, nil); err != nil {
		return fmt.Errorf("jira: edit %s: %w", key, err)
	}
	return nil
}
