package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

// SLA is how long an action item may take, by priority
// (COESYNC_ACTION_SLA). An item without a due date gets one: the day it was
// created plus the SLA of its incident's PagerDuty priority, else of its
// own Jira priority, else Default.
type SLA struct {
	// ByPriority maps a priority name (matched case-insensitively) to
	// its SLA.
	ByPriority map[string]time.Duration
	// Default covers other priorities; zero means no due date for them.
	Default time.Duration
}

// NewSLA builds an SLA from config.ParseSLA's map ("default" is Default);
// nil for an empty map.
func NewSLA(m map[string]time.Duration) *SLA {
	if len(m) == 0 {
		return nil
	}
	s := &SLA{ByPriority: map[string]time.Duration{}}
	for k, v := range m {
		if k == "default" {
			s.Default = v
			continue
		}
		s.ByPriority[strings.ToLower(k)] = v
	}
	return s
}

// For returns the SLA of the first of priorities that has one, else the
// default; ok is false when there is none.
func (s *SLA) For(priorities ...string) (d time.Duration, ok bool) {
	if s == nil {
		return 0, false
	}
	for _, p := range priorities {
		if d, ok := s.ByPriority[strings.ToLower(strings.TrimSpace(p))]; ok && p != "" {
			return d, true
		}
	}
	return s.Default, s.Default > 0
}

// DueFor is the due date an item created at created gets with SLA d: the
// calendar day (UTC) of created + d, at 00:00 UTC as Jira dates are.
func DueFor(created time.Time, d time.Duration) time.Time {
	t := created.UTC().Add(d)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// SLAStateKey records that the SLA set (or deliberately did not set) the
// item's due date: it is applied once, so a due date a person later clears
// stays cleared.
func SLAStateKey(jiraKey string) string { return "sla:" + jiraKey }

func priorityStateKey(incidentID string) string { return "sla:priority:" + incidentID }

// applySLA gives an open item without a due date its SLA due date, in Jira;
// the sync that follows writes it to the GitHub mirror with the rest. A due
// date a person set is never touched, and the SLA is applied at most once
// per item.
func (s *ItemSyncer) applySLA(ctx context.Context, c store.COE, ji *coe.JiraItem, log *slog.Logger) error {
	if s.SLA == nil || !ji.Due.IsZero() || ji.Done {
		return nil
	}
	key := SLAStateKey(ji.Key)
	done, err := s.Store.State(ctx, key)
	if err != nil {
		return err
	}
	if done != "" {
		return nil
	}
	prio, err := s.incidentPriority(ctx, c)
	if err != nil {
		return err
	}
	d, ok := s.SLA.For(prio, ji.Priority)
	if !ok {
		return s.Store.SetState(ctx, key, "none")
	}
	created := ji.Created
	if created.IsZero() {
		created = s.now()
	}
	due := DueFor(created, d)
	if err := s.Jira.EditItem(ctx, ji.Key, nil, &due); err != nil {
		return fmt.Errorf("set SLA due date of %s: %w", ji.Key, err)
	}
	ji.Due = due
	log.Info("due date set from SLA", "due", due.Format(time.DateOnly), "priority", firstNonEmpty(prio, ji.Priority, "default"), "sla", d)
	// A crash before this line is harmless: the next run finds the due
	// date in Jira and leaves it alone.
	return s.Store.SetState(ctx, key, due.Format(time.DateOnly))
}

// incidentPriority is the PagerDuty priority of the COE's incident, read
// once and kept in the store ("" when unknown or unset).
func (s *ItemSyncer) incidentPriority(ctx context.Context, c store.COE) (string, error) {
	if s.Incidents == nil || c.IncidentID == "" {
		return "", nil
	}
	key := priorityStateKey(c.IncidentID)
	v, err := s.Store.State(ctx, key)
	if err != nil {
		return "", err
	}
	if v != "" {
		p, _ := strings.CutPrefix(v, "=")
		return p, nil
	}
	inc, err := s.Incidents.Incident(ctx, c.IncidentID)
	if err != nil {
		return "", fmt.Errorf("priority of incident %s: %w", c.IncidentID, err)
	}
	// "=" prefix: an incident without a priority is remembered too.
	if err := s.Store.SetState(ctx, key, "="+inc.Priority); err != nil {
		return "", err
	}
	return inc.Priority, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
