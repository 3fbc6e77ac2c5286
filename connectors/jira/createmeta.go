package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/coesync/coesync/sync/coe"
)

// IssueTypeMeta is an issue type a user can create in a project.
type IssueTypeMeta struct {
	ID      string
	Name    string
	Subtask bool
}

// FieldMeta is a field of a project's create screen for an issue type.
type FieldMeta struct {
	ID         string // "summary", "customfield_10010"
	Name       string
	Required   bool
	HasDefault bool
}

// createMetaPage is a page of either createmeta endpoint. Jira Cloud lists
// issue types under "issueTypes" and fields under "fields"; Data Center
// lists both under "values" (with isLast).
type createMetaPage struct {
	StartAt    int             `json:"startAt"`
	MaxResults int             `json:"maxResults"`
	Total      int             `json:"total"`
	IsLast     *bool           `json:"isLast"`
	IssueTypes json.RawMessage `json:"issueTypes"`
	Fields     json.RawMessage `json:"fields"`
	Values     json.RawMessage `json:"values"`
}

type wireCreateMetaType struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Subtask bool   `json:"subtask"`
}

type wireCreateMetaField struct {
	FieldID         string `json:"fieldId"`
	Key             string `json:"key"`
	Name            string `json:"name"`
	Required        bool   `json:"required"`
	HasDefaultValue bool   `json:"hasDefaultValue"`
}

// createMetaPageSize is what both endpoints allow at most per page.
const createMetaPageSize = 50

// pages GETs path with startAt/maxResults until the last page, decoding
// each page's list (under one of the names) with add.
func (c *Client) createMetaPages(ctx context.Context, op, path string, add func(raw json.RawMessage) (int, error)) error {
	start := 0
	for page := 0; ; page++ {
		if page == maxPages {
			return fmt.Errorf("jira: %s: more than %d pages", op, maxPages)
		}
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(createMetaPageSize)}}
		var resp createMetaPage
		if err := c.call(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &resp); err != nil {
			return fmt.Errorf("jira: %s: %w", op, err)
		}
		raw := resp.Values
		if len(resp.IssueTypes) > 0 {
			raw = resp.IssueTypes
		} else if len(resp.Fields) > 0 {
			raw = resp.Fields
		}
		n := 0
		if len(raw) > 0 && string(raw) != "null" {
			var err error
			if n, err = add(raw); err != nil {
				return fmt.Errorf("jira: %s: unusable response: %w", op, err)
			}
		}
		start += n
		last := n == 0 || (resp.IsLast != nil && *resp.IsLast) || (resp.IsLast == nil && start >= resp.Total)
		if last {
			return nil
		}
	}
}

// IssueTypes lists the issue types the user can create in project (GET
// /rest/api/2/issue/createmeta/{project}/issuetypes, every page). An
// unknown project, or one the user cannot create issues in, is a
// Permanent *engine.Error with Status 404 (or 403).
func (c *Client) IssueTypes(ctx context.Context, project string) ([]IssueTypeMeta, error) {
	if err := checkProject(project); err != nil {
		return nil, fmt.Errorf("jira: issue types of %s: %w", project, err)
	}
	var out []IssueTypeMeta
	err := c.createMetaPages(ctx, "issue types of "+project, "rest/api/2/issue/createmeta/"+url.PathEscape(project)+"/issuetypes",
		func(raw json.RawMessage) (int, error) {
			var ts []wireCreateMetaType
			if err := json.Unmarshal(raw, &ts); err != nil {
				return 0, err
			}
			for _, t := range ts {
				out = append(out, IssueTypeMeta{ID: t.ID, Name: t.Name, Subtask: t.Subtask})
			}
			return len(ts), nil
		})
	return out, err
}

// CreateFields lists the fields of project's create screen for the issue
// type with id typeID (GET
// /rest/api/2/issue/createmeta/{project}/issuetypes/{typeID}, every page).
func (c *Client) CreateFields(ctx context.Context, project, typeID string) ([]FieldMeta, error) {
	if err := checkProject(project); err != nil {
		return nil, fmt.Errorf("jira: create fields of %s: %w", project, err)
	}
	if _, err := strconv.ParseUint(typeID, 10, 64); err != nil {
		return nil, fmt.Errorf("jira: create fields of %s: invalid issue type id %q", project, typeID)
	}
	var out []FieldMeta
	err := c.createMetaPages(ctx, "create fields of "+project+" issue type "+typeID,
		"rest/api/2/issue/createmeta/"+url.PathEscape(project)+"/issuetypes/"+typeID,
		func(raw json.RawMessage) (int, error) {
			var fs []wireCreateMetaField
			if err := json.Unmarshal(raw, &fs); err != nil {
				return 0, err
			}
			for _, f := range fs {
				id := f.FieldID
				if id == "" {
					id = f.Key
				}
				out = append(out, FieldMeta{ID: id, Name: f.Name, Required: f.Required, HasDefault: f.HasDefaultValue})
			}
			return len(fs), nil
		})
	return out, err
}

// Myself returns the display name of the authenticated user (GET
// /rest/api/2/myself): the credential check.
func (c *Client) Myself(ctx context.Context) (string, error) {
	var me struct {
		DisplayName string `json:"displayName"`
		Name        string `json:"name"`
		AccountID   string `json:"accountId"`
	}
	if err := c.call(ctx, http.MethodGet, "rest/api/2/myself", nil, &me); err != nil {
		return "", fmt.Errorf("jira: myself: %w", err)
	}
	for _, s := range []string{me.DisplayName, me.Name, me.AccountID} {
		if s != "" {
			return s, nil
		}
	}
	return "", nil
}

// Transitions lists the names of the transitions Jira offers on the issue
// now (from its current status), without making one.
func (c *Client) Transitions(ctx context.Context, key string) ([]string, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("jira: transitions of %s: %w", key, err)
	}
	ts, _, err := c.api.Issue.GetTransitionsWithContext(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("jira: transitions of %s: %w", key, c.cause(err))
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return names, nil
}

// RecentItems returns up to 50 issues of project carrying label, most
// recently updated first (one search page).
func (c *Client) RecentItems(ctx context.Context, project, label string) ([]coe.JiraItem, error) {
	if err := checkProject(project); err != nil {
		return nil, fmt.Errorf("jira: recent items of %s: %w", project, err)
	}
	jql := "project = " + QuoteJQL(project) + " AND labels = " + QuoteJQL(label) + " ORDER BY updated DESC"
	var set itemSet
	err := c.searchVia(
		func() error {
			var resp searchResponse
			err := c.call(ctx, http.MethodPost, pathSearchJQL, searchRequest{JQL: jql, Fields: itemFields, MaxResults: 50}, &resp)
			if err != nil {
				return searchJQLFailed(0, err)
			}
			set.add(c, resp.Issues)
			return nil
		},
		func() error {
			var resp classicSearchResponse
			err := c.call(ctx, http.MethodPost, pathSearch, classicSearchRequest{JQL: jql, MaxResults: 50, Fields: itemFields}, &resp)
			if err != nil {
				return err
			}
			set.add(c, resp.Issues)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("jira: recent items of %s: %w", project, err)
	}
	return set.items, nil
}

// checkProject rejects what is not a project key or id.
func checkProject(p string) error {
	ok := p != "" && len(p) <= 64
	for i := 0; ok && i < len(p); i++ {
		b := p[i]
		ok = b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_'
	}
	if !ok {
		return fmt.Errorf("invalid project key %q", p)
	}
	return nil
}
