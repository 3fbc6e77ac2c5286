package store

import (
	"context"
	"fmt"
	"time"
)

// earlierWhere selects created COEs of a service or an incident key
// created before a time; an empty service or key matches nothing.
const earlierWhere = `state = 'created' AND created_at < %s AND
	((service_id <> '' AND service_id = %s) OR (incident_key <> '' AND incident_key = %s))
	ORDER BY created_at DESC, incident_id LIMIT %s`

// EarlierCOEs implements Store.
func (s *SQLite) EarlierCOEs(ctx context.Context, serviceID, incidentKey string, before time.Time, limit int) ([]COE, error) {
	if limit <= 0 || (serviceID == "" && incidentKey == "") {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+coeColumns+` FROM coes WHERE `+fmt.Sprintf(earlierWhere, "?", "?", "?", "?"),
		before.UnixMilli(), serviceID, incidentKey, limit)
	if err != nil {
		return nil, fmt.Errorf("store: earlier COEs of %s/%s: %w", serviceID, incidentKey, err)
	}
	defer rows.Close()
	var out []COE
	for rows.Next() {
		c, err := scanCOE(rows)
		if err != nil {
			return nil, fmt.Errorf("store: earlier COEs of %s/%s: %w", serviceID, incidentKey, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EarlierCOEs implements Store.
func (s *Postgres) EarlierCOEs(ctx context.Context, serviceID, incidentKey string, before time.Time, limit int) ([]COE, error) {
	if limit <= 0 || (serviceID == "" && incidentKey == "") {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+coeColumns+` FROM coes WHERE `+fmt.Sprintf(earlierWhere, "$1", "$2", "$3", "$4"),
		before, serviceID, incidentKey, limit)
	if err != nil {
		return nil, fmt.Errorf("store: earlier COEs of %s/%s: %w", serviceID, incidentKey, err)
	}
	defer rows.Close()
	var out []COE
	for rows.Next() {
		c, err := scanPgCOE(rows)
		if err != nil {
			return nil, fmt.Errorf("store: earlier COEs of %s/%s: %w", serviceID, incidentKey, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: earlier COEs of %s/%s: %w", serviceID, incidentKey, err)
	}
	return out, nil
}
