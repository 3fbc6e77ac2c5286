package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

const itemColumns = `jira_key, jira_id, coe_key, incident_id, repo, number, issue_url, state, intent_at,
	title, closed, assignee, owner, due, priority, body_hash, jira_updated, github_updated, problem, opened_at, closed_at`

func scanItem(r scanner) (ActionItem, error) {
	var it ActionItem
	var intent, due, ju, gu, opened, closedAt int64
	err := r.Scan(&it.JiraKey, &it.JiraID, &it.COEKey, &it.IncidentID, &it.Repo, &it.Number, &it.IssueURL, &it.State, &intent,
		&it.Title, &it.Closed, &it.Assignee, &it.Owner, &due, &it.Priority, &it.BodyHash, &ju, &gu, &it.Problem, &opened, &closedAt)
	it.IntentAt, it.Due, it.JiraUpdated, it.GitHubUpdated = fromMilli(intent), fromMilli(due), fromMilli(ju), fromMilli(gu)
	it.OpenedAt, it.ClosedAt = fromMilli(opened), fromMilli(closedAt)
	return it, err
}

func itemArgs(it ActionItem) []any {
	return []any{it.JiraKey, it.JiraID, it.COEKey, it.IncidentID, it.Repo, it.Number, it.IssueURL, it.State, toMilli(it.IntentAt),
		it.Title, it.Closed, it.Assignee, it.Owner, toMilli(it.Due), it.Priority, it.BodyHash, toMilli(it.JiraUpdated),
		toMilli(it.GitHubUpdated), it.Problem, toMilli(it.OpenedAt), toMilli(it.ClosedAt)}
}

func (s *SQLite) oneItem(ctx context.Context, what, query string, args ...any) (ActionItem, error) {
	it, err := scanItem(s.db.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM action_items WHERE `+query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return ActionItem{}, ErrNotFound
	}
	if err != nil {
		return ActionItem{}, fmt.Errorf("store: get action item %s: %w", what, err)
	}
	return it, nil
}

// ActionItem implements ItemStore.
func (s *SQLite) ActionItem(ctx context.Context, key string) (ActionItem, error) {
	return s.oneItem(ctx, key, `jira_key = ?`, key)
}

// ActionItemByIssue implements ItemStore.
func (s *SQLite) ActionItemByIssue(ctx context.Context, repo string, number int) (ActionItem, error) {
	return s.oneItem(ctx, fmt.Sprintf("%s#%d", repo, number), `repo = ? AND number = ?`, repo, number)
}

// PutActionItem implements ItemStore.
func (s *SQLite) PutActionItem(ctx context.Context, it ActionItem) error {
	if _, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO action_items (`+itemColumns+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, itemArgs(it)...); err != nil {
		return fmt.Errorf("store: put action item %s: %w", it.JiraKey, err)
	}
	return nil
}

// ActionItems implements ItemStore.
func (s *SQLite) ActionItems(ctx context.Context, coeKey string) ([]ActionItem, error) {
	q, args := `SELECT `+itemColumns+` FROM action_items ORDER BY coe_key, jira_key`, []any(nil)
	if coeKey != "" {
		q, args = `SELECT `+itemColumns+` FROM action_items WHERE coe_key = ? ORDER BY jira_key`, []any{coeKey}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list action items: %w", err)
	}
	defer rows.Close()
	var out []ActionItem
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list action items: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// COEByKey implements ItemStore.
func (s *SQLite) COEByKey(ctx context.Context, key string) (COE, error) {
	c, err := scanCOE(s.db.QueryRowContext(ctx, `SELECT `+coeColumns+` FROM coes WHERE ticket_key = ? AND ticket_key <> ''`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return COE{}, ErrNotFound
	}
	if err != nil {
		return COE{}, fmt.Errorf("store: get COE %s: %w", key, err)
	}
	return c, nil
}

// SetCOERollup implements ItemStore.
func (s *SQLite) SetCOERollup(ctx context.Context, incidentID, commentID string, completedAt time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE coes SET rollup_comment = ?, completed_at = ? WHERE incident_id = ?`,
		commentID, toMilli(completedAt), incidentID); err != nil {
		return fmt.Errorf("store: set roll-up of %s: %w", incidentID, err)
	}
	return nil
}

// State implements ItemStore; a missing key is "".
func (s *SQLite) State(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM sync_state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: get state %s: %w", key, err)
	}
	return v, nil
}

// SetState implements ItemStore.
func (s *SQLite) SetState(ctx context.Context, key, value string) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sync_state (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("store: set state %s: %w", key, err)
	}
	return nil
}

func day(t time.Time) int64 { return t.UTC().Truncate(24 * time.Hour).UnixMilli() }

// Count implements ItemStore.
func (s *SQLite) Count(ctx context.Context, name string, at time.Time, n int) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO counters (name, day, n) VALUES (?, ?, ?)
		ON CONFLICT (name, day) DO UPDATE SET n = n + excluded.n`, name, day(at), n); err != nil {
		return fmt.Errorf("store: count %s: %w", name, err)
	}
	return nil
}

// Counts implements ItemStore.
func (s *SQLite) Counts(ctx context.Context, since, until time.Time) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, SUM(n) FROM counters WHERE day >= ? AND day < ? GROUP BY name`,
		day(since), until.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: counters: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("store: counters: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}

// TryLock implements ItemStore.
func (s *SQLite) TryLock(ctx context.Context, name, owner string, until time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE leases.until < ? OR leases.owner = excluded.owner`, name, owner, until.UnixMilli(), time.Now().UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: lock %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Unlock implements ItemStore.
func (s *SQLite) Unlock(ctx context.Context, name, owner string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner); err != nil {
		return fmt.Errorf("store: unlock %s: %w", name, err)
	}
	return nil
}

// SetCOECategory implements Store.
func (s *SQLite) SetCOECategory(ctx context.Context, key, category string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE coes SET ticket_category = ? WHERE ticket_key = ? AND ticket_key <> ''`, category, key); err != nil {
		return fmt.Errorf("store: set category of %s: %w", key, err)
	}
	return nil
}

// DeliveryCounts implements Store.
func (s *SQLite) DeliveryCounts(ctx context.Context, since, until time.Time) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source, COUNT(*) FROM deliveries WHERE received_at >= ? AND received_at < ? GROUP BY source`,
		since.UnixMilli(), until.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: count deliveries: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var src string
		var n int
		if err := rows.Scan(&src, &n); err != nil {
			return nil, fmt.Errorf("store: count deliveries: %w", err)
		}
		out[src] = n
	}
	return out, rows.Err()
}

// RecentDeliveries implements ItemStore.
func (s *SQLite) RecentDeliveries(ctx context.Context, source, resourceID string, since time.Time, limit int) ([]Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source, id, event_type, resource_id, received_at, body FROM deliveries
		WHERE source <> 'pagerduty' AND source = ? AND resource_id = ? AND received_at >= ? ORDER BY received_at DESC, id DESC LIMIT ?`,
		source, resourceID, since.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of %s %s: %w", source, resourceID, err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var at int64
		if err := rows.Scan(&d.Source, &d.ID, &d.EventType, &d.ResourceID, &at, &d.Body); err != nil {
			return nil, fmt.Errorf("store: deliveries of %s %s: %w", source, resourceID, err)
		}
		d.ReceivedAt = time.UnixMilli(at).UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: deliveries of %s %s: %w", source, resourceID, err)
	}
	slices.Reverse(out)
	return out, nil
}
