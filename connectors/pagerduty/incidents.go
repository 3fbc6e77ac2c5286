package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/coesync/coesync/sync/coe"
)

// maxListRange is the longest since/until range PagerDuty accepts in one
// GET /incidents ("Maximum range is 6 months"); longer ranges are split.
const maxListRange = 179 * 24 * time.Hour

// ResolvedIncidents lists the resolved incidents created in [since, until)
// (GET /incidents with since, until and statuses[]=resolved, every page),
// oldest first. A range longer than PagerDuty's six-month limit is asked
// for in several windows. Incidents seen twice (the list moved while
// paging) are returned once.
func (c *Client) ResolvedIncidents(ctx context.Context, since, until time.Time) ([]coe.Incident, error) {
	return c.ListResolvedIncidents(ctx, since, until, nil)
}

// ListResolvedIncidents is ResolvedIncidents that reports, through listed
// (may be nil), how many incidents it has read so far: a long range takes
// many pages.
func (c *Client) ListResolvedIncidents(ctx context.Context, since, until time.Time, listed func(n int)) ([]coe.Incident, error) {
	if since.IsZero() || !until.After(since) {
		return nil, c.fail("list resolved incidents", badData(fmt.Errorf("want since before until, got %s and %s", since, until)))
	}
	var all []coe.Incident
	seen := map[string]bool{}
	for from := since; from.Before(until); from = from.Add(maxListRange) {
		to := from.Add(maxListRange)
		if to.After(until) {
			to = until
		}
		err := c.listIncidents(ctx, gopd.ListIncidentsOptions{
			Since:    from.UTC().Format(time.RFC3339),
			Until:    to.UTC().Format(time.RFC3339),
			Statuses: []string{"resolved"},
			TimeZone: "UTC",
		}, func(inc coe.Incident) {
			if !seen[inc.ID] {
				seen[inc.ID] = true
				all = append(all, inc)
				if listed != nil {
					listed(len(all))
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	// PagerDuty filters since/until on created_at; keep the range exact.
	all = slices.DeleteFunc(all, func(i coe.Incident) bool {
		return !i.CreatedAt.IsZero() && (i.CreatedAt.Before(since) || !i.CreatedAt.Before(until))
	})
	slices.SortStableFunc(all, func(a, b coe.Incident) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return all, nil
}

// CheckAccess reads one page of one resolved incident: the call coesync's
// token must be allowed to make. It returns nil when the token works.
func (c *Client) CheckAccess(ctx context.Context) error {
	op := "check access (list incidents)"
	return c.fail2(op, c.call(ctx, func(ctx context.Context) error {
		_, err := c.pd.ListIncidentsWithContext(ctx, gopd.ListIncidentsOptions{Limit: 1, Statuses: []string{"resolved"}})
		return err
	}))
}

func (c *Client) fail2(op string, err error) error {
	if err == nil {
		return nil
	}
	return c.fail(op, err)
}

func (c *Client) listIncidents(ctx context.Context, o gopd.ListIncidentsOptions, add func(coe.Incident)) error {
	o.Limit = pageLimit
	for page := 0; ; page++ {
		op := fmt.Sprintf("list resolved incidents %s..%s (offset %d)", o.Since, o.Until, o.Offset)
		if page == maxPages {
			return c.fail(op, badData(fmt.Errorf("more than %d pages", maxPages)))
		}
		var resp *gopd.ListIncidentsResponse
		err := c.call(ctx, func(ctx context.Context) (err error) {
			resp, err = c.pd.ListIncidentsWithContext(ctx, o)
			return err
		})
		if err != nil {
			return c.fail(op, err)
		}
		for i := range resp.Incidents {
			inc, err := toIncident(&resp.Incidents[i])
			if err != nil {
				return c.fail(op, badData(err))
			}
			add(inc)
		}
		if !resp.More {
			return nil
		}
		if len(resp.Incidents) == 0 {
			return c.fail(op, badData(errors.New("empty page with more=true")))
		}
		o.Offset += uint(len(resp.Incidents))
	}
}
