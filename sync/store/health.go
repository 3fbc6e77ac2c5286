package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// writeHealth remembers whether the store's last write of deliveries
// failed: a store that answers reads (Ping) may still refuse every write
// (a full disk, a read-only file system or replica), and then every
// webhook gets a 503 while the pod looks ready.
type writeHealth struct {
	mu  sync.Mutex
	err error
}

// record notes the outcome of a write. A delivery the database refuses
// (ErrUnstorable) says nothing about the store.
func (h *writeHealth) record(err error) {
	if errors.Is(err, ErrUnstorable) {
		return
	}
	h.mu.Lock()
	h.err = err
	h.mu.Unlock()
}

func (h *writeHealth) last() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// writeProbe is the probe's statement: one small committed write, the same
// in both stores' SQL.
const writeProbe = `INSERT INTO sync_state (key, value) VALUES ('write_probe', %s)
	ON CONFLICT (key) DO UPDATE SET value = excluded.value`

// checkWrites is WriteHealthy: nil while the last write succeeded;
// otherwise one probe write decides, and its outcome is the new verdict.
// Without the probe a store that stopped failing would stay unready: an
// unready pod gets no webhooks, so no write would ever clear the failure.
func (h *writeHealth) checkWrites(ctx context.Context, probe func(context.Context, string) error) error {
	if h.last() == nil {
		return nil
	}
	err := probe(ctx, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil && ctx.Err() != nil {
		// The probe ran out of time: that says nothing new.
		return fmt.Errorf("store: writes fail: %w", h.last())
	}
	h.record(err)
	if err != nil {
		return fmt.Errorf("store: writes fail: %w", err)
	}
	return nil
}

// WriteHealthy reports whether the store takes writes (readiness): nil
// unless its last write of deliveries failed and a probe write fails too.
func (s *SQLite) WriteHealthy(ctx context.Context) error {
	return s.health.checkWrites(ctx, func(ctx context.Context, at string) error {
		_, err := s.db.ExecContext(ctx, fmt.Sprintf(writeProbe, "?"), at)
		return err
	})
}

// WriteHealthy reports whether the store takes writes (readiness): nil
// unless its last write of deliveries failed and a probe write fails too.
func (s *Postgres) WriteHealthy(ctx context.Context) error {
	return s.health.checkWrites(ctx, func(ctx context.Context, at string) error {
		_, err := s.pool.Exec(ctx, fmt.Sprintf(writeProbe, "$1"), at)
		return err
	})
}
