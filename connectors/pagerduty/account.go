package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/coesync/coesync/sync/engine"
)

// maxUserPages bounds the pages IsUser reads for one query.
const maxUserPages = 10

// IsUser reports whether email is the email of a user of the account
// (GET /users?query=email, matched exactly, case-insensitively):
// PagerDuty refuses a note whose From header is anyone else.
func (c *Client) IsUser(ctx context.Context, email string) (bool, error) {
	op := "find user by email"
	email = strings.TrimSpace(email)
	if email == "" {
		return false, nil
	}
	o := gopd.ListUsersOptions{Query: email, Limit: pageLimit}
	for page := 0; page < maxUserPages; page++ {
		var resp *gopd.ListUsersResponse
		err := c.call(ctx, func(ctx context.Context) (err error) {
			resp, err = c.pd.ListUsersWithContext(ctx, o)
			return err
		})
		if err != nil {
			return false, c.fail(op, err)
		}
		for _, u := range resp.Users {
			if strings.EqualFold(strings.TrimSpace(u.Email), email) {
				return true, nil
			}
		}
		if !resp.More || len(resp.Users) == 0 {
			return false, nil
		}
		o.Offset += uint(len(resp.Users))
	}
	return false, nil
}

// probeIncident is an incident id PagerDuty never issues (its ids are
// upper-case letters and digits), so a note on it cannot land anywhere.
const probeIncident = "coesync-check-no-such-incident"

// ErrReadOnly is returned by ProbeNoteWrite when the key may not write.
var ErrReadOnly = errors.New("the API key may not write (a read-only key): PagerDuty answered 403 to a note")

// ProbeNoteWrite proves, without writing anything, that the key may add
// notes: it adds a note to an incident that cannot exist. A read-only key
// is refused whatever the target (403: ErrReadOnly); a key that may write
// gets 404 for the missing incident, which is success. It does not prove
// the From header: PagerDuty may look the incident up first; IsUser checks
// the From.
func (c *Client) ProbeNoteWrite(ctx context.Context) error {
	op := "probe note write"
	if c.from == "" {
		return c.fail(op, engine.Permanently(errors.New("Options.From is empty")))
	}
	err := c.call(ctx, func(ctx context.Context) error {
		_, err := c.pd.CreateIncidentNoteWithContext(ctx, probeIncident, gopd.IncidentNote{
			Content: "coesync check: this incident does not exist; nothing is written",
			User:    gopd.APIObject{Summary: c.from},
		})
		return err
	})
	switch engine.StatusOf(err) {
	case http.StatusNotFound:
		return nil
	case http.StatusForbidden:
		return c.fail(op, fmt.Errorf("%w: %w", ErrReadOnly, err))
	}
	if err == nil {
		// A server that answered 2xx for an incident that cannot exist.
		return c.fail(op, badData(errors.New("a note on an incident that cannot exist was accepted")))
	}
	return c.fail(op, err)
}
