package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

// maxBulkCreate is the most issues POST /rest/api/2/issue/bulk takes in
// one call.
const maxBulkCreate = 50

// bulkCreateRequest is the body of POST /rest/api/2/issue/bulk.
type bulkCreateRequest struct {
	IssueUpdates []bulkIssueUpdate `json:"issueUpdates"`
}

type bulkIssueUpdate struct {
	Fields *gojira.IssueFields `json:"fields"`
}

// bulkCreateResponse is Jira's CreatedIssues: the issues created, in the
// order of the request less the failed ones, and an error per failed
// element, which failedElementNumber names (0-based, in the request).
type bulkCreateResponse struct {
	Issues []struct {
		ID   string `json:"id"`
		Key  string `json:"key"`
		Self string `json:"self"`
	} `json:"issues"`
	Errors []bulkElementError `json:"errors"`
}

type bulkElementError struct {
	Status        int `json:"status"`
	ElementErrors struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	} `json:"elementErrors"`
	FailedElementNumber *int `json:"failedElementNumber"`
}

// message flattens the element's errors like atlassianMessage does.
func (e bulkElementError) message() string {
	var parts []string
	for _, m := range e.ElementErrors.ErrorMessages {
		if m = strings.TrimSpace(m); m != "" {
			parts = append(parts, m)
		}
	}
	for _, f := range sortedKeys(e.ElementErrors.Errors) {
		parts = append(parts, f+": "+strings.TrimSpace(e.ElementErrors.Errors[f]))
	}
	return strings.Join(parts, "; ")
}

// CreateSubtasks creates sub-tasks of parentKey, one per spec, with POST
// /rest/api/2/issue/bulk (50 a call): refs[i] is the sub-task made for
// specs[i]. Defaults are CreateSubtask's. When Jira refuses some elements
// (it answers 201 with both lists, or 400 when it refuses all of them), the
// error is an *engine.PartialCreateError naming them, and refs holds the
// ones created. Any other error leaves refs as far as it is known: the
// chunks before the failed one.
func (c *Client) CreateSubtasks(ctx context.Context, parentKey string, specs []coe.TicketSpec) ([]coe.TicketRef, error) {
	if err := checkKey(parentKey); err != nil {
		return nil, fmt.Errorf("jira: create sub-tasks: %w", err)
	}
	refs := make([]coe.TicketRef, len(specs))
	var partial engine.PartialCreateError
	for start := 0; start < len(specs); start += maxBulkCreate {
		chunk := specs[start:min(start+maxBulkCreate, len(specs))]
		body := bulkCreateRequest{IssueUpdates: make([]bulkIssueUpdate, len(chunk))}
		for i, spec := range chunk {
			if spec.IssueType == "" {
				spec.IssueType = DefaultSubtaskType
			}
			if spec.Project == "" {
				if i := strings.LastIndexByte(parentKey, '-'); i > 0 {
					spec.Project = parentKey[:i]
				}
			}
			body.IssueUpdates[i] = bulkIssueUpdate{Fields: issueFields(spec, parentKey)}
		}
		if err := c.bulkCreate(ctx, body, start, refs, &partial); err != nil {
			return refs, fmt.Errorf("jira: create %d sub-tasks of %s: %w", len(specs), parentKey, err)
		}
	}
	if len(partial.Failed) > 0 {
		return refs, fmt.Errorf("jira: create %d sub-tasks of %s: %w", len(specs), parentKey, &partial)
	}
	return refs, nil
}

// bulkCreate sends one chunk whose first spec is specs[offset], filling
// refs and partial.
func (c *Client) bulkCreate(ctx context.Context, body bulkCreateRequest, offset int, refs []coe.TicketRef, partial *engine.PartialCreateError) error {
	n := len(body.IssueUpdates)
	req, err := c.api.NewRequestWithContext(ctx, http.MethodPost, "rest/api/2/issue/bulk", body)
	if err != nil {
		return c.cause(err)
	}
	var out bulkCreateResponse
	resp, err := c.api.Do(req, &out)
	if err != nil {
		if engine.StatusOf(err) != http.StatusBadRequest {
			return c.cause(err)
		}
		// Every element was refused: the transport turned the answer
		// into a classified error. Nothing was created.
		for i := range n {
			partial.Failed = append(partial.Failed, engine.CreateFailure{Index: offset + i, Err: c.cause(err)})
		}
		return nil
	}
	if resp != nil && resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bulk create answered %d", resp.StatusCode)
	}
	failed := map[int]bool{}
	for _, e := range out.Errors {
		if e.FailedElementNumber == nil || *e.FailedElementNumber < 0 || *e.FailedElementNumber >= n {
			return engine.Permanently(fmt.Errorf("bulk create answered an error for no element of the request: %q", e.message()))
		}
		i := *e.FailedElementNumber
		failed[i] = true
		status := e.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		kind := engine.Permanent
		switch {
		case status == http.StatusTooManyRequests:
			kind = engine.RateLimited
		case status >= 500:
			kind = engine.Retryable
		}
		partial.Failed = append(partial.Failed, engine.CreateFailure{Index: offset + i,
			Err: &engine.Error{Kind: kind, Service: "jira", Status: status, Msg: e.message()}})
	}
	// The issues come in the request's order, the failed elements left out.
	next := 0
	for i := range n {
		if failed[i] {
			continue
		}
		if next >= len(out.Issues) {
			return errors.New("bulk create answered fewer issues than it created")
		}
		is := out.Issues[next]
		next++
		if is.Key == "" {
			return errors.New("bulk create answered an issue without a key")
		}
		refs[offset+i] = c.ref(is.ID, is.Key)
	}
	return nil
}
