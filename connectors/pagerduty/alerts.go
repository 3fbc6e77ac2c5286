package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/coesync/coesync/sync/coe"
)

// Alerts returns the incident's alerts (GET /incidents/{id}/alerts, every
// page), oldest first. Each alert's monitoring link is its
// body.cef_details.client_url (what the Events API v2 client_url becomes),
// else a URL in body.details under "client_url", "url" or "link", else
// the first link in body.contexts; its source is
// body.cef_details.source_origin (the Events API source), else the
// monitoring client's name, else the integration's.
func (c *Client) Alerts(ctx context.Context, id string) ([]coe.Alert, error) {
	if err := checkID(id); err != nil {
		return nil, c.fail("list alerts", err)
	}
	var (
		all  []coe.Alert
		seen = make(map[string]bool)
		off  uint
	)
	for page := 0; ; page++ {
		op := fmt.Sprintf("list alerts of %s (offset %d)", id, off)
		if page == maxPages {
			return nil, c.fail(op, badData(fmt.Errorf("more than %d pages", maxPages)))
		}
		var resp *gopd.ListAlertsResponse
		err := c.call(ctx, func(ctx context.Context) (err error) {
			resp, err = c.pd.ListIncidentAlertsWithContext(ctx, id, gopd.ListIncidentAlertsOptions{Limit: pageLimit, Offset: off})
			return err
		})
		if err != nil {
			return nil, c.fail(op, err)
		}
		for i := range resp.Alerts {
			a := &resp.Alerts[i]
			if a.ID != "" {
				if seen[a.ID] {
					continue
				}
				seen[a.ID] = true
			}
			out, err := toAlert(a)
			if err != nil {
				return nil, c.fail(op, badData(err))
			}
			all = append(all, out)
		}
		if !resp.More {
			break
		}
		if len(resp.Alerts) == 0 {
			return nil, c.fail(op, badData(errors.New("empty page with more=true")))
		}
		off += uint(len(resp.Alerts))
	}
	slices.SortStableFunc(all, func(a, b coe.Alert) int { return a.At.Compare(b.At) })
	return all, nil
}

// toAlert translates one alert (see Alerts for where the link and source
// come from).
func toAlert(a *gopd.IncidentAlert) (coe.Alert, error) {
	at, err := parseTime("alert "+a.ID+" created_at", a.CreatedAt)
	if err != nil {
		return coe.Alert{}, err
	}
	cef, _ := a.Body["cef_details"].(map[string]any)
	details, _ := a.Body["details"].(map[string]any)
	out := coe.Alert{At: at, Summary: a.Summary, Severity: a.Severity}
	out.Source = firstString(str(cef, "source_origin"), str(cef, "client"), a.Integration.Summary)
	out.Link = firstString(str(cef, "client_url"), str(details, "client_url"), str(details, "url"), str(details, "link"), contextLink(a.Body))
	return out, nil
}

// str is m[key] when it is a non-blank string.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return strings.TrimSpace(s)
}

func firstString(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// contextLink is the href of the first link context of an alert body.
func contextLink(body map[string]any) string {
	ctxs, _ := body["contexts"].([]any)
	for _, c := range ctxs {
		m, _ := c.(map[string]any)
		if t, _ := m["type"].(string); t == "link" {
			if h := str(m, "href"); h != "" {
				return h
			}
		}
	}
	return ""
}
