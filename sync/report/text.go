package report

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// cleanField makes untrusted text one clean line: invalid UTF-8 becomes
// U+FFFD; control characters, bidirectional overrides and isolates, the
// byte-order mark and Unicode tag characters are removed; white space
// runs (line breaks included) become one space; the text is trimmed and
// capped at maxRunes (a capped text ends with "…").
func cleanField(s string, maxRunes int) string {
	if len(s) > 8*maxRunes+64 {
		s = s[:8*maxRunes+64] // bounded work; the cap below cuts further
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			r = unicode.ReplacementChar
		case unicode.IsSpace(r):
			space = true
			continue
		case r < 0x20, r >= 0x7f && r <= 0x9f, // C0, DEL, C1
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, // bidi overrides, isolates
			r == 0x200e, r == 0x200f, r == 0x061c, // bidi marks
			r == 0xfeff, r == 0xfffe, r == 0xffff,
			r >= 0xe0000 && r <= 0xe007f: // tags
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return truncate(b.String(), maxRunes)
}

func truncate(s string, maxRunes int) string {
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	rs := []rune(s)[:maxRunes-1]
	return strings.TrimRight(string(rs), " ") + "…"
}

// safeURL returns raw as an absolute http(s) URL with a host and no user
// information, with every character that could end a Markdown link or
// table cell percent-encoded; "" when raw is anything else.
func safeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 2048 {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	u.Scheme = scheme
	if strings.ContainsAny(u.Host, "[]") || u.Hostname() == "" {
		return ""
	}
	s := u.String()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if urlSafe(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// urlSafe reports the bytes left as they are in a URL: RFC 3986 unreserved
// and reserved characters and '%', except the parentheses (they can end a
// Markdown link) and the brackets (only valid in an IPv6 host, refused).
func urlSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#@!$&'*+,;=%", c) >= 0
}

// reportURL links the HTML report of p under base (PublicURL).
func reportURL(base string, p Period) string {
	base = safeURL(base)
	if base == "" {
		return ""
	}
	u, _ := url.Parse(base)
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/") + "/report"
	u.RawPath = ""
	q := url.Values{}
	if p.IsWeek() {
		q.Set("week", p.Label)
	} else {
		q.Set("since", flagTime(p.Since))
		q.Set("until", flagTime(p.Until))
	}
	u.RawQuery = q.Encode()
	return safeURL(u.String())
}

func flagTime(t time.Time) string {
	if isMidnight(t) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

func itoa(n int) string { return strconv.Itoa(n) }

// fmtDuration formats a duration coarsely: "45 s", "12 min", "3 h 5 min",
// "2 d 4 h".
func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return itoa(int(d/time.Minute)) + " min"
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return itoa(h) + " h"
		}
		return itoa(h) + " h " + itoa(m) + " min"
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return itoa(days) + " d"
	}
	return itoa(days) + " d " + itoa(h) + " h"
}

// fmtRate formats a completion rate as a whole percentage; "–" when nil.
func fmtRate(r *float64) string {
	if r == nil {
		return "–"
	}
	return strconv.Itoa(int(math.Round(*r*100))) + "%"
}

// fmtDays formats a number of days with one decimal; "–" when nil.
func fmtDays(d *float64) string {
	if d == nil {
		return "–"
	}
	return strconv.FormatFloat(*d, 'f', 1, 64)
}

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.Format("Mon 2 Jan 2006")
}

func fmtShortDate(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.Format("2006-01-02")
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.Format("2006-01-02 15:04 MST")
}

// fmtDue formats a due date: a day, or an instant to the minute.
func fmtDue(due time.Time, day bool) string {
	if due.IsZero() {
		return "–"
	}
	if day {
		return fmtShortDate(due)
	}
	return due.Format("2006-01-02 15:04")
}

// periodText describes a period for a reader: "Mon 16 Nov 2026 – Sun 22
// Nov 2026" for whole days (the end shown inclusive), times otherwise.
func periodText(p Period) string {
	if isMidnight(p.Since) && isMidnight(p.Until) {
		last := p.Until.AddDate(0, 0, -1)
		if !last.After(p.Since) {
			return fmtDate(p.Since)
		}
		return fmtDate(p.Since) + " – " + fmtDate(last)
	}
	return p.Since.Format("Mon 2 Jan 2006 15:04") + " – " + p.Until.Format("Mon 2 Jan 2006 15:04")
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return itoa(n) + " days"
}
