package store

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"sync"
	"time"
)

// SQLite's WAL is copied back into the database file by checkpoints. Left
// to SQLite (wal_autocheckpoint), a checkpoint runs inside the commit that
// crosses 1,000 WAL pages, on the one connection every webhook's commit
// waits for: it writes and fsyncs the database file, and that commit's
// webhooks wait tens to hundreds of milliseconds (the p99 of ingest).
// coesync turns automatic checkpoints off on the store's connection and
// runs them from a second connection in the background: a PASSIVE
// checkpoint neither waits for nor blocks the writer. Durability does not
// change: every commit is still fsync'd in the WAL before the 202.

const (
	// checkpointEvery is how often the background checkpoint runs.
	checkpointEvery = time.Second
	// walTruncateAt is the WAL size beyond which the checkpoint also
	// truncates it (briefly waiting for the writer) so it cannot grow
	// without bound under continuous load.
	walTruncateAt = 64 << 20
)

// checkpointer runs WAL checkpoints of one SQLite file in the background.
type checkpointer struct {
	db   *sql.DB
	wal  string
	log  *slog.Logger
	stop chan struct{}
	done sync.WaitGroup
}

// startCheckpointer opens a second connection to path and checkpoints
// every checkpointEvery until close.
func startCheckpointer(path string, log *slog.Logger) (*checkpointer, error) {
	c, err := newCheckpointer(path, log)
	if err != nil {
		return nil, err
	}
	c.done.Add(1)
	go c.run()
	return c, nil
}

// newCheckpointer opens the checkpoint connection without starting.
func newCheckpointer(path string, log *slog.Logger) (*checkpointer, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &checkpointer{db: db, wal: path + "-wal", log: log, stop: make(chan struct{})}, nil
}

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.checkpoint()
		}
	}
}

func (c *checkpointer) checkpoint() {
	mode := "PASSIVE"
	if st, err := os.Stat(c.wal); err == nil && st.Size() > walTruncateAt {
		mode = "TRUNCATE"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy, logged, done int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logged, &done); err != nil {
		c.log.Warn("WAL checkpoint failed", "mode", mode, "err", err)
	}
}

// close stops the checkpoints and closes the second connection; the
// store's own Close then checkpoints what is left.
func (c *checkpointer) close() {
	close(c.stop)
	c.done.Wait()
	c.db.Close()
}
