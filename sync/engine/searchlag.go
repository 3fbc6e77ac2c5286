package engine

import (
	"context"
	"encoding/json"
	"time"
)

// The settle window of a create whose outcome is unknown (see
// pollByLabel) is sized from the search lag coesync has observed on this
// Jira: twice the longest of the last searchLagKept observations, at least
// SearchSettleFloor, at most the configured SearchSettle (which is the
// window until a lag has been observed). An observation is the time from a
// create's intent to the search first showing its ticket: an upper bound
// of the lag (the retry may have started late), so the window errs long.
const (
	SearchSettleFloor = 5 * time.Second
	searchLagKept     = 8
	// SearchLagStateKey is the key/value state key of the observed lags.
	SearchLagStateKey = "jira:search-lag"
)

// observedLags returns the search lags recorded so far, newest last; none
// when the state is missing or unreadable.
func (d *Drafter) observedLags(ctx context.Context) []time.Duration {
	v, err := d.Store.State(ctx, SearchLagStateKey)
	if err != nil || v == "" {
		return nil
	}
	var lags []time.Duration
	if json.Unmarshal([]byte(v), &lags) != nil {
		return nil
	}
	return lags
}

// searchSettle is the settle window to use now.
func (d *Drafter) searchSettle(ctx context.Context) time.Duration {
	ceiling := d.SearchSettle
	lags := d.observedLags(ctx)
	if ceiling <= 0 || len(lags) == 0 {
		return ceiling
	}
	longest := time.Duration(0)
	for _, l := range lags {
		longest = max(longest, l)
	}
	return min(max(2*longest, SearchSettleFloor), ceiling)
}

// recordSearchLag adds an observed lag (errors are logged: the window
// then stays as it was).
func (d *Drafter) recordSearchLag(ctx context.Context, lag time.Duration) {
	if lag < 0 {
		return
	}
	lags := append(d.observedLags(ctx), lag)
	if len(lags) > searchLagKept {
		lags = lags[len(lags)-searchLagKept:]
	}
	b, err := json.Marshal(lags)
	if err == nil {
		err = d.Store.SetState(context.WithoutCancel(ctx), SearchLagStateKey, string(b))
	}
	if err != nil {
		d.Log.Warn("could not record Jira's search lag", "err", err)
		return
	}
	d.Log.Info("Jira search lag observed", "lag", lag, "settle", d.searchSettle(ctx))
}
