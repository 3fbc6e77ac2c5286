package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

func scanPgItem(r scanner) (ActionItem, error) {
	var it ActionItem
	var intent, due, ju, gu, opened, closedAt pgtype.Timestamptz
	err := r.Scan(&it.JiraKey, &it.JiraID, &it.COEKey, &it.IncidentID, &it.Repo, &it.Number, &it.IssueURL, &it.State, &intent,
		&it.Title, &it.Closed, &it.Assignee, &it.Owner, &due, &it.Priority, &it.BodyHash, &ju, &gu, &it.Problem, &opened, &closedAt)
	it.IntentAt, it.Due, it.JiraUpdated, it.GitHubUpdated = fromTS(intent), fromTS(due), fromTS(ju), fromTS(gu)
	it.OpenedAt, it.ClosedAt = fromTS(opened), fromTS(closedAt)
	return it, err
}

func pgItemArgs(it ActionItem) []any {
	return []any{it.JiraKey, it.JiraID, it.COEKey, it.IncidentID, it.Repo, it.Number, it.IssueURL, it.State, ts(it.IntentAt),
		it.Title, it.Closed, it.Assignee, it.Owner, ts(it.Due), it.Priority, it.BodyHash, ts(it.JiraUpdated),
		ts(it.GitHubUpdated), it.Problem, ts(it.OpenedAt), ts(it.ClosedAt)}
}

func (s *Postgres) oneItem(ctx context.Context, what, where string, args ...any) (ActionItem, error) {
	it, err := scanPgItem(s.pool.QueryRow(ctx, `SELECT `+itemColumns+` FROM action_items WHERE `+where, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return ActionItem{}, ErrNotFound
	}
	if err != nil {
		return ActionItem{}, fmt.Errorf("store: get action item %s: %w", what, err)
	}
	return it, nil
}

// ActionItem implements ItemStore.
func (s *Postgres) ActionItem(ctx context.Context, key string) (ActionItem, error) {
	return s.oneItem(ctx, key, `jira_key = $1`, key)
}

// ActionItemByIssue implements ItemStore.
func (s *Postgres) ActionItemByIssue(ctx context.Context, repo string, number int) (ActionItem, error) {
	// LIMIT 1 and an order keep the answer deterministic, like SQLite's
	// first row by key, should two items ever name the same issue.
	return s.oneItem(ctx, fmt.Sprintf("%s#%d", repo, number), `repo = $1 AND number = $2 ORDER BY jira_key LIMIT 1`, repo, number)
}

// PutActionItem implements ItemStore.
func (s *Postgres) PutActionItem(ctx context.Context, it ActionItem) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO action_items (`+itemColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)
		ON CONFLICT (jira_key) DO UPDATE SET
			jira_id = excluded.jira_id, coe_key = excluded.coe_key, incident_id = excluded.incident_id,
			repo = excluded.repo, number = excluded.number, issue_url = excluded.issue_url, state = excluded.state,
			intent_at = excluded.intent_at, title = excluded.title, closed = excluded.closed,
			assignee = excluded.assignee, owner = excluded.owner, due = excluded.due, priority = excluded.priority,
			body_hash = excluded.body_hash, jira_updated = excluded.jira_updated,
			github_updated = excluded.github_updated, problem = excluded.problem,
			opened_at = excluded.opened_at, closed_at = excluded.closed_at`, pgItemArgs(it)...); err != nil {
		return fmt.Errorf("store: put action item %s: %w", it.JiraKey, err)
	}
	return nil
}

// ActionItems implements ItemStore.
func (s *Postgres) ActionItems(ctx context.Context, coeKey string) ([]ActionItem, error) {
	q, args := `SELECT `+itemColumns+` FROM action_items ORDER BY coe_key, jira_key`, []any(nil)
	if coeKey != "" {
		q, args = `SELECT `+itemColumns+` FROM action_items WHERE coe_key = $1 ORDER BY jira_key`, []any{coeKey}
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list action items: %w", err)
	}
	defer rows.Close()
	var out []ActionItem
	for rows.Next() {
		it, err := scanPgItem(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list action items: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list action items: %w", err)
	}
	return out, nil
}

// COEByKey implements ItemStore.
func (s *Postgres) COEByKey(ctx context.Context, key string) (COE, error) {
	return s.oneCOE(ctx, key, `ticket_key = $1 AND ticket_key <> '' ORDER BY incident_id LIMIT 1`, key)
}

// SetCOERollup implements ItemStore.
func (s *Postgres) SetCOERollup(ctx context.Context, incidentID, commentID string, completedAt time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE coes SET rollup_comment = $1, completed_at = $2 WHERE incident_id = $3`,
		commentID, ts(completedAt), incidentID); err != nil {
		return fmt.Errorf("store: set roll-up of %s: %w", incidentID, err)
	}
	return nil
}

// State implements ItemStore; a missing key is "".
func (s *Postgres) State(ctx context.Context, key string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM sync_state WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: get state %s: %w", key, err)
	}
	return v, nil
}

// SetState implements ItemStore.
func (s *Postgres) SetState(ctx context.Context, key, value string) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO sync_state (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("store: set state %s: %w", key, err)
	}
	return nil
}

// utcDay is the UTC midnight starting the day of t: the counters' bucket.
func utcDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// Count implements ItemStore.
func (s *Postgres) Count(ctx context.Context, name string, at time.Time, n int) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO counters (name, day, n) VALUES ($1, $2, $3)
		ON CONFLICT (name, day) DO UPDATE SET n = counters.n + excluded.n`, name, utcDay(at), n); err != nil {
		return fmt.Errorf("store: count %s: %w", name, err)
	}
	return nil
}

// Counts implements ItemStore: a day's bucket counts when the range touches
// the day.
func (s *Postgres) Counts(ctx context.Context, since, until time.Time) (map[string]int, error) {
	out, err := s.countBy(ctx, `SELECT name, SUM(n)::bigint FROM counters WHERE day >= $1 AND day < $2 GROUP BY name`,
		utcDay(since), until)
	if err != nil {
		return nil, fmt.Errorf("store: counters: %w", err)
	}
	return out, nil
}

// TryLock implements ItemStore. Concurrent callers serialise on the row:
// the first inserts, the others re-check the WHERE against its committed
// lease and change nothing.
func (s *Postgres) TryLock(ctx context.Context, name, owner string, until time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE leases.until < $4 OR leases.owner = excluded.owner`, name, owner, until, time.Now())
	if err != nil {
		return false, fmt.Errorf("store: lock %s: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Unlock implements ItemStore.
func (s *Postgres) Unlock(ctx context.Context, name, owner string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND owner = $2`, name, owner); err != nil {
		return fmt.Errorf("store: unlock %s: %w", name, err)
	}
	return nil
}

// RecentDeliveries implements ItemStore.
func (s *Postgres) RecentDeliveries(ctx context.Context, source, resourceID string, since time.Time, limit int) ([]Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, id, event_type, resource_id, received_at, body FROM deliveries
		WHERE source <> 'pagerduty' AND source = $2 AND resource_id = $3 AND received_at >= $1 ORDER BY received_at DESC, id DESC LIMIT $4`,
		since, source, resourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of %s %s: %w", source, resourceID, err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.Source, &d.ID, &d.EventType, &d.ResourceID, &d.ReceivedAt, &d.Body); err != nil {
			return nil, fmt.Errorf("store: deliveries of %s %s: %w", source, resourceID, err)
		}
		d.ReceivedAt = d.ReceivedAt.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: deliveries of %s %s: %w", source, resourceID, err)
	}
	slices.Reverse(out)
	return out, nil
}
