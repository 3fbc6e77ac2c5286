package coe

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// TextLimit is a vendor's limit on a text coesync writes. Every text
// coesync composes for Jira or GitHub is fitted to one of these before it
// is sent: the vendor refuses a longer one (Jira with a 400, GitHub with a
// 422), and a refused roll-up or mirror would be retried forever.
type TextLimit struct {
	// Max is the limit, in characters as the vendor counts them.
	Max int
	// UTF16: the vendor counts UTF-16 code units (Jira's Java strings);
	// otherwise Unicode code points (GitHub).
	UTF16 bool
	// Vendor names the vendor in the truncation marker.
	Vendor string
}

// The limits coesync writes within.
var (
	// JiraText is a Jira text field: a description or a comment.
	JiraText = TextLimit{Max: MaxDescriptionLen, UTF16: true, Vendor: "Jira"}
	// JiraSummary is a Jira issue summary.
	JiraSummary = TextLimit{Max: MaxSummaryLen, UTF16: true, Vendor: "Jira"}
	// GitHubBody is a GitHub issue or comment body.
	GitHubBody = TextLimit{Max: 65536, Vendor: "GitHub"}
	// GitHubTitle is a GitHub issue title.
	GitHubTitle = TextLimit{Max: 256, Vendor: "GitHub"}
)

// Len is s's length as the vendor counts it.
func (l TextLimit) Len(s string) int {
	if l.UTF16 {
		return utf16Len(s)
	}
	return utf8.RuneCountInString(s)
}

func (l TextLimit) runeLen(r rune) int {
	if l.UTF16 {
		return utf16.RuneLen(r)
	}
	return 1
}

// FitLine fits a one-line text (a summary, a title): a longer one is cut
// and ends with "…".
func (l TextLimit) FitLine(s string) string {
	if l.Len(s) <= l.Max {
		return s
	}
	room := l.Max - l.Len(ellipsis)
	n := 0
	for i, r := range s {
		if n += l.runeLen(r); n > room {
			return strings.TrimRight(s[:i], " ") + ellipsis
		}
	}
	return s
}

// Notice is the marker a text cut by Fit carries where it was cut.
func (l TextLimit) Notice() string {
	return "\n\n… cut here to fit " + l.Vendor + "'s limit of " + thousands(l.Max) + " characters.\n"
}

// Fit fits body followed by tail (a marker coesync finds the text by, kept
// whole): when both do not fit, body is cut at a line end (coesync's texts
// are complete markup line by line, so no construct is left open) and the
// Notice marks the cut. A tail longer than the limit is cut with FitLine.
func (l TextLimit) Fit(body, tail string) string {
	if l.Len(body)+l.Len(tail) <= l.Max {
		return body + tail
	}
	return l.cut(body, l.Notice(), tail)
}

// cut cuts body at the last line end that leaves room for notice and tail.
func (l TextLimit) cut(body, notice, tail string) string {
	room := l.Max - l.Len(notice) - l.Len(tail)
	if room < 0 {
		return l.FitLine(notice + tail)
	}
	n, end := 0, 0
	for i, r := range body {
		if n += l.runeLen(r); n > room {
			break
		}
		if r == '\n' {
			end = i
		}
	}
	return strings.TrimRight(body[:end], "\n") + notice + tail
}

// thousands formats n with comma separators (32767 -> "32,767").
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// truncateUTF16 caps s at max UTF-16 code units, ending a capped text with
// "…".
func truncateUTF16(s string, max int) string {
	return TextLimit{Max: max, UTF16: true}.FitLine(s)
}
