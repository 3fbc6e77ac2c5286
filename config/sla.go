package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SLADefault is the key of the SLA for priorities without their own.
const SLADefault = "default"

// ParseSLA parses COESYNC_ACTION_SLA: comma-separated priority=duration
// pairs such as "P1=14d,P2=30d,P3=60d,default=45d". A priority is the
// PagerDuty priority name of the incident (or, when the incident has none
// listed, the Jira priority of the item), matched case-insensitively;
// "default" covers the others. A duration is a number of days ("14d"),
// weeks ("2w") or a Go duration of at least an hour ("36h"). Keys are
// returned as written except "default", which is lower-cased. An empty
// string is no SLA (nil map, no error).
func ParseSLA(s string) (map[string]time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]time.Duration{}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("want priority=days such as P1=14d, got %s", quote(part))
		}
		if strings.EqualFold(k, SLADefault) {
			k = SLADefault
		}
		if seen[strings.ToLower(k)] {
			return nil, fmt.Errorf("priority %s is listed twice", quote(k))
		}
		seen[strings.ToLower(k)] = true
		d, err := parseDays(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		out[k] = d
	}
	if len(out) == 0 {
		return nil, errors.New("no priority=days pair")
	}
	return out, nil
}

func parseDays(v string) (time.Duration, error) {
	bad := fmt.Errorf("want a duration such as 14d, 2w or 36h, got %s", quote(v))
	var d time.Duration
	switch unit := v[len(v)-1]; unit {
	case 'd', 'w':
		n, err := strconv.Atoi(v[:len(v)-1])
		if err != nil {
			return 0, bad
		}
		if n > 3650 {
			return 0, fmt.Errorf("%s is more than ten years", quote(v))
		}
		d = time.Duration(n) * 24 * time.Hour
		if unit == 'w' {
			d *= 7
		}
	default:
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, bad
		}
	}
	if d < time.Hour {
		return 0, fmt.Errorf("want at least 1h, got %s", quote(v))
	}
	return d, nil
}

// SLA returns COESYNC_ACTION_SLA parsed (nil when unset; Validate reports
// a bad value).
func (c Config) SLA() map[string]time.Duration {
	m, err := ParseSLA(c.ActionSLA)
	if err != nil {
		return nil
	}
	return m
}
