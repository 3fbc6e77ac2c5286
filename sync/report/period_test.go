package report

import (
	"strings"
	"testing"
	"time"
)

func TestLastFullWeek(t *testing.T) {
	loc := berlin(t)
	tests := []struct {
		name      string
		now       time.Time
		loc       *time.Location
		label     string
		since     string // local date of Since
		until     string
		wantHours float64
	}{
		{"monday morning", at(t, loc, "2026-11-23 09:00"), loc, "2026-W47", "2026-11-16", "2026-11-23", 168},
		{"monday midnight: the week just ended", at(t, loc, "2026-11-23 00:00"), loc, "2026-W47", "2026-11-16", "2026-11-23", 168},
		{"sunday night: that week is not over", at(t, loc, "2026-11-22 23:59"), loc, "2026-W46", "2026-11-09", "2026-11-16", 168},
		{"the zone decides: Monday 00:30 in Berlin", time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC), loc, "2026-W47", "2026-11-16", "2026-11-23", 168},
		{"the zone decides: still Sunday in UTC", time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC), time.UTC, "2026-W46", "2026-11-09", "2026-11-16", 168},
		{"nil location is UTC", time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC), nil, "2026-W46", "2026-11-09", "2026-11-16", 168},
		{"week 53 not over yet", time.Date(2021, 1, 3, 12, 0, 0, 0, time.UTC), time.UTC, "2020-W52", "2020-12-21", "2020-12-28", 168},
		{"week 53 across the new year", time.Date(2021, 1, 4, 12, 0, 0, 0, time.UTC), time.UTC, "2020-W53", "2020-12-28", "2021-01-04", 168},
		{"week 01 starting in December", time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), time.UTC, "2026-W01", "2025-12-29", "2026-01-05", 168},
		{"DST starts: 167 hours", at(t, loc, "2026-03-30 09:00"), loc, "2026-W13", "2026-03-23", "2026-03-30", 167},
		{"DST ends: 169 hours", at(t, loc, "2026-10-26 09:00"), loc, "2026-W43", "2026-10-19", "2026-10-26", 169},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := LastFullWeek(tt.now, tt.loc)
			checkPeriod(t, p, orUTC(tt.loc), tt.label, tt.since, tt.until, tt.wantHours)
		})
	}
}

func checkPeriod(t *testing.T, p Period, loc *time.Location, label, since, until string, hours float64) {
	t.Helper()
	if p.Label != label {
		t.Errorf("label = %q, want %q", p.Label, label)
	}
	for _, c := range []struct {
		name string
		got  time.Time
		want string
	}{{"since", p.Since, since}, {"until", p.Until, until}} {
		want, _ := time.ParseInLocation(time.DateOnly, c.want, loc)
		if !c.got.Equal(want) || c.got.Location() != loc {
			t.Errorf("%s = %v, want local midnight %v", c.name, c.got, want)
		}
	}
	if got := p.Until.Sub(p.Since).Hours(); got != hours {
		t.Errorf("length = %vh, want %vh", got, hours)
	}
}

func TestISOWeek(t *testing.T) {
	loc := berlin(t)
	tests := []struct {
		spec, label, since, until string
		hours                     float64
	}{
		{"2026-W47", "2026-W47", "2026-11-16", "2026-11-23", 168},
		{"2026-w47", "2026-W47", "2026-11-16", "2026-11-23", 168},
		{" 2026-W47 ", "2026-W47", "2026-11-16", "2026-11-23", 168},
		{"2020-W53", "2020-W53", "2020-12-28", "2021-01-04", 168},
		{"2021-W01", "2021-W01", "2021-01-04", "2021-01-11", 168},
		{"2026-W01", "2026-W01", "2025-12-29", "2026-01-05", 168},
		{"2026-W53", "2026-W53", "2026-12-28", "2027-01-04", 168}, // 2026 starts on a Thursday
		{"2025-W01", "2025-W01", "2024-12-30", "2025-01-06", 168},
		{"2015-W53", "2015-W53", "2015-12-28", "2016-01-04", 168},
		{"2026-W13", "2026-W13", "2026-03-23", "2026-03-30", 167}, // clocks go forward on 29 March
		{"2026-W43", "2026-W43", "2026-10-19", "2026-10-26", 169}, // and back on 25 October
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			p, err := ISOWeek(tt.spec, loc)
			if err != nil {
				t.Fatal(err)
			}
			checkPeriod(t, p, loc, tt.label, tt.since, tt.until, tt.hours)
			if !p.IsWeek() {
				t.Error("IsWeek() = false")
			}
		})
	}
}

func TestISOWeekErrors(t *testing.T) {
	for _, spec := range []string{
		"", "2026", "2026-47", "W47", "2026-W4", "2026-W047", "2026-W00", "2026-W54",
		"2025-W53", "2021-W53", "26-W47", "2026W47", "2026-X47", "２０２６-W47", "2026-W4a", "0000-W01",
	} {
		t.Run(spec, func(t *testing.T) {
			_, err := ISOWeek(spec, time.UTC)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "-week ") {
				t.Errorf("error %q does not name -week", err)
			}
		})
	}
	_, err := ISOWeek("2025-W53", time.UTC)
	if err == nil || !strings.Contains(err.Error(), "01 to 52") {
		t.Errorf("error %q does not say which weeks exist", err)
	}
}

func TestRange(t *testing.T) {
	loc := berlin(t)
	now := at(t, loc, "2026-11-20 14:03")
	tests := []struct {
		name, since, until string
		wantSince          time.Time
		wantUntil          time.Time
		label              string
	}{
		{"dates", "2026-11-01", "2026-11-08", at(t, loc, "2026-11-01 00:00"), at(t, loc, "2026-11-08 00:00"), "2026-11-01 – 2026-11-08"},
		{"until now", "2026-11-01", "", at(t, loc, "2026-11-01 00:00"), now, "2026-11-01 00:00 – 2026-11-20 14:03"},
		{"RFC 3339 in another zone", "2026-11-01T10:00:00Z", "2026-11-02T00:00:00+01:00", at(t, loc, "2026-11-01 11:00"), at(t, loc, "2026-11-02 00:00"), "2026-11-01 11:00 – 2026-11-02 00:00"},
		{"across DST", "2026-03-28", "2026-03-30", at(t, loc, "2026-03-28 00:00"), at(t, loc, "2026-03-30 00:00"), "2026-03-28 – 2026-03-30"},
		{"one day", "2026-11-19", "2026-11-20", at(t, loc, "2026-11-19 00:00"), at(t, loc, "2026-11-20 00:00"), "2026-11-19 – 2026-11-20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Range(tt.since, tt.until, now, loc)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Since.Equal(tt.wantSince) || !p.Until.Equal(tt.wantUntil) {
				t.Errorf("period = [%v, %v), want [%v, %v)", p.Since, p.Until, tt.wantSince, tt.wantUntil)
			}
			if p.Label != tt.label {
				t.Errorf("label = %q, want %q", p.Label, tt.label)
			}
			if p.IsWeek() {
				t.Error("a range claims to be a week")
			}
		})
	}
	p, _ := Range("2026-03-28", "2026-03-30", now, loc)
	if h := p.Until.Sub(p.Since).Hours(); h != 47 {
		t.Errorf("two days across the DST change = %vh, want 47h", h)
	}
}

func TestRangeErrors(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct{ since, until, flag string }{
		{"", "", "-since"},
		{"yesterday", "", "-since"},
		{"2026-02-30", "", "-since"},
		{"2026-11-1", "", "-since"},
		{"2026-11-01T10:00", "", "-since"},
		{"2026-11-01", "next week", "-until"},
		{"2026-11-01", "2026-13-01", "-until"},
		{"2026-11-08", "2026-11-01", "-since"}, // not before -until
		{"2026-11-08", "2026-11-08", "-since"}, // empty
		{"2026-12-01", "", "-since"},           // after now
	}
	for _, tt := range tests {
		t.Run(tt.since+"_"+tt.until, func(t *testing.T) {
			_, err := Range(tt.since, tt.until, now, time.UTC)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.flag+" ") {
				t.Errorf("error %q does not start with %s", err, tt.flag)
			}
		})
	}
}

func TestParsePeriod(t *testing.T) {
	loc := berlin(t)
	now := at(t, loc, "2026-11-25 10:00")
	tests := []struct {
		name, week, since, until string
		label, err               string
	}{
		{"default: last full week", "", "", "", "2026-W47", ""},
		{"week", "2026-W40", "", "", "2026-W40", ""},
		{"range", "", "2026-11-01", "2026-11-08", "2026-11-01 – 2026-11-08", ""},
		{"since only", "", "2026-11-24", "", "2026-11-24 00:00 – 2026-11-25 10:00", ""},
		{"week and since", "2026-W40", "2026-11-01", "", "", "-week and -since are exclusive"},
		{"week and until", "2026-W40", "", "2026-11-01", "", "-week and -until are exclusive"},
		{"until alone", "", "", "2026-11-01", "", "-until needs -since"},
		{"bad week", "2026-W60", "", "", "", "-week \"2026-W60\""},
		{"bad since", "", "1 Nov", "", "", "-since \"1 Nov\""},
		{"bad until", "", "2026-11-01", "soon", "", "-until \"soon\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePeriod(tt.week, tt.since, tt.until, now, loc)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Label != tt.label {
				t.Errorf("label = %q, want %q", p.Label, tt.label)
			}
		})
	}
}

// Every ISO week of a few decades: seven local days, back to back, and the
// label names the week Go's ISOWeek gives for its Monday.
func TestISOWeeksTileTheCalendar(t *testing.T) {
	loc := berlin(t)
	prev, err := ISOWeek("1999-W52", loc)
	if err != nil {
		t.Fatal(err)
	}
	for y := 2000; y <= 2040; y++ {
		for w := 1; w <= weeksIn(y); w++ {
			spec := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006") + "-W" + twoDigits(w)
			p, err := ISOWeek(spec, loc)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Since.Equal(prev.Until) {
				t.Fatalf("%s starts %v, previous week ended %v", spec, p.Since, prev.Until)
			}
			if p.Since.Weekday() != time.Monday || !isMidnight(p.Since) || p.Since.AddDate(0, 0, 7) != p.Until {
				t.Fatalf("%s = [%v, %v)", spec, p.Since, p.Until)
			}
			if gy, gw := p.Since.ISOWeek(); gy != y || gw != w || p.Label != spec {
				t.Fatalf("%s: Monday is in %d-W%d, label %q", spec, gy, gw, p.Label)
			}
			prev = p
		}
	}
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}
