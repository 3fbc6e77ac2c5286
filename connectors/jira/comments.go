package jira

import (
	"context"
	"fmt"
	"github.com/coesync/coesync/sync/engine"
	"net/http"
	"strconv"
	"strings"
)

// FindComment returns the id of the first comment on key whose body
// contains marker. It is the witness for a comment coesync may have added
// before a crash (comments are read from the issue, which is consistent).
func (c *Client) FindComment(ctx context.Context, key, marker string) (string, bool, error) {
	if err := checkKey(key); err != nil {
		return "", false, fmt.Errorf("jira: find comment on %s: %w", key, err)
	}
	for start := 0; start < 100*pageSize; {
		path := "rest/api/2/issue/" + key + "/comment?startAt=" + strconv.Itoa(start) + "&maxResults=" + strconv.Itoa(pageSize)
		req, err := c.api.NewRequestWithContext(ctx, http.MethodGet, path, nil)
		if err != nil {
			return "", false, fmt.Errorf("jira: find comment on %s: %w", key, c.cause(err))
		}
		var page struct {
			StartAt  int `json:"startAt"`
			Total    int `json:"total"`
			Comments []struct {
				ID   string `json:"id"`
				Body string `json:"body"`
			} `json:"comments"`
		}
		if _, err := c.api.Do(req, &page); err != nil {
			return "", false, fmt.Errorf("jira: find comment on %s: %w", key, c.cause(err))
		}
		for _, cm := range page.Comments {
			if strings.Contains(cm.Body, marker) {
				return cm.ID, true, nil
			}
		}
		if len(page.Comments) == 0 || start+len(page.Comments) >= page.Total {
			return "", false, nil
		}
		start += len(page.Comments)
	}
	return "", false, nil
}

// Is lets the engine recognise a missing transition with
// errors.Is(err, engine.ErrNoTransition) without importing this package.
func (e *ErrNoTransition) Is(target error) bool { return target == engine.ErrNoTransition }
