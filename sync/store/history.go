package store

import (
	"context"
	"fmt"
	"time"
)

// EarlierQuery asks for the COEs of incidents triggered before one incident.
type EarlierQuery struct {
	// ServiceID and IncidentKey select the COEs of the service or with the
	// incident key; an empty one matches nothing.
	ServiceID, IncidentKey string
	// Number is the incident's PagerDuty number (0: unknown). PagerDuty
	// numbers an account's incidents in the order they trigger, so a COE
	// whose incident has a lower number is of an earlier incident.
	Number int
	// TriggeredAt is when the incident triggered. When either number is
	// unknown, a COE counts as earlier only if its ticket was created
	// before then: a ticket created later may be of a later incident (a
	// backfill creates the COEs of old incidents after newer ones).
	TriggeredAt time.Time
	Limit       int
}

// earlierWhere selects created COEs of a service or an incident key whose
// incidents triggered before the query's; its placeholders are, in order,
// the number, the trigger time, the service, the key and the limit.
const earlierWhere = `state = 'created' AND
	((%[1]s > 0 AND incident_number > 0 AND incident_number < %[1]s) OR
	 ((%[1]s = 0 OR incident_number = 0) AND created_at < %[2]s)) AND
	((service_id <> '' AND service_id = %[3]s) OR (incident_key <> '' AND incident_key = %[4]s))
	ORDER BY created_at DESC, incident_id LIMIT %[5]s`

func (q EarlierQuery) empty() bool {
	return q.Limit <= 0 || (q.ServiceID == "" && q.IncidentKey == "")
}

// EarlierCOEs implements Store.
func (s *SQLite) EarlierCOEs(ctx context.Context, q EarlierQuery) ([]COE, error) {
	if q.empty() {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+coeColumns+` FROM coes WHERE `+fmt.Sprintf(earlierWhere, "?1", "?2", "?3", "?4", "?5"),
		q.Number, q.TriggeredAt.UnixMilli(), q.ServiceID, q.IncidentKey, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: earlier COEs of %s/%s: %w", q.ServiceID, q.IncidentKey, err)
	}
	defer rows.Close()
	var out []COE
	for rows.Next() {
		c, err := scanCOE(rows)
		if err != nil {
			return nil, fmt.Errorf("store: earlier COEs of %s/%s: %w", q.ServiceID, q.IncidentKey, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EarlierCOEs implements Store.
func (s *Postgres) EarlierCOEs(ctx context.Context, q EarlierQuery) ([]COE, error) {
	if q.empty() {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+coeColumns+` FROM coes WHERE `+fmt.Sprintf(earlierWhere, "$1::integer", "$2", "$3", "$4", "$5"),
		q.Number, q.TriggeredAt, q.ServiceID, q.IncidentKey, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: earlier COEs of %s/%s: %w", q.ServiceID, q.IncidentKey, err)
	}
	defer rows.Close()
	var out []COE
	for rows.Next() {
		c, err := scanPgCOE(rows)
		if err != nil {
			return nil, fmt.Errorf("store: earlier COEs of %s/%s: %w", q.ServiceID, q.IncidentKey, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: earlier COEs of %s/%s: %w", q.ServiceID, q.IncidentKey, err)
	}
	return out, nil
}
