package server

import (
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rejectLogEvery is the least time between two log lines about the
// rejected deliveries of one source: a flood of bad requests costs one
// line a minute, and a wrong secret after a rotation still shows.
const rejectLogEvery = time.Minute

// rejectLog logs rejected deliveries, at most one line per source per
// rejectLogEvery, with the count (by reason) since the source's last line.
// The first rejection after a quiet minute is logged at once; the ones
// after it are counted into the next line.
type rejectLog struct {
	mu      sync.Mutex
	sources map[string]*rejected
}

type rejected struct {
	logged  time.Time      // when the last line was written
	pending map[string]int // by reason, since then
}

func (l *rejectLog) note(log *slog.Logger, now time.Time, source, reason string) {
	l.mu.Lock()
	if l.sources == nil {
		l.sources = map[string]*rejected{}
	}
	r := l.sources[source]
	if r == nil {
		r = &rejected{pending: map[string]int{}}
		l.sources[source] = r
	}
	r.pending[reason]++
	if !r.logged.IsZero() && now.Sub(r.logged) < rejectLogEvery {
		l.mu.Unlock()
		return
	}
	since := r.logged
	counts := r.pending
	r.logged, r.pending = now, map[string]int{}
	l.mu.Unlock()

	total := 0
	reasons := make([]string, 0, len(counts))
	for k, n := range counts {
		total += n
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	var by strings.Builder
	for i, k := range reasons {
		if i > 0 {
			by.WriteByte(',')
		}
		by.WriteString(k + "=" + itoa(counts[k]))
	}
	attrs := []any{"source", source, "count", total, "reasons", by.String()}
	if !since.IsZero() {
		attrs = append(attrs, "since", since)
	}
	if log != nil {
		log.Warn("webhooks rejected", attrs...)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
