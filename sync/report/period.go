package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is the half-open interval [Since, Until) a report covers.
type Period struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Label names the period: "2026-W47" for an ISO week,
	// "2026-11-01 – 2026-11-08" for a range (Until exclusive).
	Label string `json:"label"`
}

// IsZero reports whether p is the zero Period.
func (p Period) IsZero() bool { return p.Since.IsZero() && p.Until.IsZero() }

// IsWeek reports whether p is one ISO week (its label is "YYYY-Www").
func (p Period) IsWeek() bool {
	_, _, err := parseWeekSpec(p.Label)
	return err == nil
}

// dayStart returns local midnight of the given (possibly unnormalised) date.
// Going through time.Date keeps a day a calendar day across DST changes:
// a week is seven local days, 167 or 169 hours when the clocks change.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// weekStart returns the local midnight of the Monday of t's ISO week.
func weekStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	off := (int(t.Weekday()) + 6) % 7 // Monday 0 … Sunday 6
	y, m, d := t.Date()
	return dayStart(y, m, d-off, loc)
}

// weekOf returns the ISO week that contains t, in loc.
func weekOf(t time.Time, loc *time.Location) Period {
	since := weekStart(t, loc)
	y, m, d := since.Date()
	until := dayStart(y, m, d+7, loc)
	return Period{Since: since, Until: until, Label: weekLabel(since)}
}

func weekLabel(monday time.Time) string {
	y, w := monday.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// LastFullWeek returns the last ISO week (Monday 00:00 to the next Monday
// 00:00 in loc) that has ended at now. On a Monday at 00:00 that is the week
// which just ended. A nil loc means UTC.
func LastFullWeek(now time.Time, loc *time.Location) Period {
	loc = orUTC(loc)
	this := weekStart(now, loc)
	y, m, d := this.Date()
	return weekOf(dayStart(y, m, d-7, loc), loc)
}

// weeksIn returns the number of ISO weeks of ISO year y (52 or 53):
// 28 December is always in the year's last week.
func weeksIn(y int) int {
	_, w := time.Date(y, 12, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

func parseWeekSpec(spec string) (year, week int, err error) {
	y, w, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok || len(y) != 4 || len(w) != 3 || (w[0] != 'W' && w[0] != 'w') || !digits(y) || !digits(w[1:]) {
		return 0, 0, errors.New(`want an ISO week such as "2026-W47"`)
	}
	year, _ = strconv.Atoi(y)
	week, _ = strconv.Atoi(w[1:])
	if year < 1 {
		return 0, 0, errors.New("year out of range")
	}
	if n := weeksIn(year); week < 1 || week > n {
		return 0, 0, fmt.Errorf("week %02d does not exist: %d has weeks 01 to %02d", week, year, n)
	}
	return year, week, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// ISOWeek returns the ISO 8601 week spec ("2026-W47", also "2026-w47") in
// loc: Monday 00:00 to the next Monday 00:00. Week 01 is the week with the
// year's first Thursday, so it can start in December (2026-W01 starts
// 2025-12-29) and week 53 can end in January (2020-W53 ends 2021-01-04).
// A nil loc means UTC.
func ISOWeek(spec string, loc *time.Location) (Period, error) {
	loc = orUTC(loc)
	year, week, err := parseWeekSpec(spec)
	if err != nil {
		return Period{}, fmt.Errorf("-week %q: %w", spec, err)
	}
	// 4 January is always in week 01.
	jan4 := time.Date(year, 1, 4, 12, 0, 0, 0, time.UTC)
	off := (int(jan4.Weekday()) + 6) % 7
	return weekOf(dayStart(year, 1, 4-off+7*(week-1), loc), loc), nil
}

// Range returns the period from since to until. Each is a date
// (YYYY-MM-DD, local midnight in loc) or an RFC 3339 time; until is
// exclusive (a date means the start of that day) and "" means now. Errors
// name the flag (-since, -until) at fault. A nil loc means UTC.
func Range(since, until string, now time.Time, loc *time.Location) (Period, error) {
	loc = orUTC(loc)
	s, err := parseTime(since, loc)
	if err != nil {
		return Period{}, fmt.Errorf("-since %q: %w", since, err)
	}
	u := now.In(loc)
	if strings.TrimSpace(until) != "" {
		if u, err = parseTime(until, loc); err != nil {
			return Period{}, fmt.Errorf("-until %q: %w", until, err)
		}
	}
	if !s.Before(u) {
		if until == "" {
			return Period{}, fmt.Errorf("-since %q: not before now (%s)", since, u.Format(time.RFC3339))
		}
		return Period{}, fmt.Errorf("-since %q: not before -until %q", since, until)
	}
	return Period{Since: s, Until: u, Label: rangeLabel(s, u)}, nil
}

func parseTime(v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, errors.New("empty: want YYYY-MM-DD or an RFC 3339 time")
	}
	if len(v) == len(time.DateOnly) {
		d, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return time.Time{}, errors.New("want YYYY-MM-DD or an RFC 3339 time")
		}
		return dayStart(d.Year(), d.Month(), d.Day(), loc), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errors.New("want YYYY-MM-DD or an RFC 3339 time")
	}
	return t.In(loc), nil
}

func isMidnight(t time.Time) bool {
	h, m, s := t.Clock()
	return h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

func rangeLabel(s, u time.Time) string {
	f := time.DateOnly
	if !isMidnight(s) || !isMidnight(u) {
		f = "2006-01-02 15:04"
	}
	return s.Format(f) + " – " + u.Format(f)
}

// ParsePeriod turns the report flags into a period: -week (an ISO week),
// or -since with an optional -until (see Range), or neither for the last
// full week before now. -week excludes -since and -until; -until needs
// -since. A nil loc means UTC.
func ParsePeriod(week, since, until string, now time.Time, loc *time.Location) (Period, error) {
	week, since, until = strings.TrimSpace(week), strings.TrimSpace(since), strings.TrimSpace(until)
	switch {
	case week != "" && since != "":
		return Period{}, errors.New("-week and -since are exclusive: give one")
	case week != "" && until != "":
		return Period{}, errors.New("-week and -until are exclusive: give one")
	case week != "":
		return ISOWeek(week, loc)
	case since != "":
		return Range(since, until, now, loc)
	case until != "":
		return Period{}, errors.New("-until needs -since")
	}
	return LastFullWeek(now, loc), nil
}
