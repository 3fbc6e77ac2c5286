package coe

import (
	"strings"
	"testing"
)

func TestTextLimitFitLine(t *testing.T) {
	jira, gh := TextLimit{Max: 10, UTF16: true}, TextLimit{Max: 10}
	for _, tc := range []struct {
		name string
		l    TextLimit
		in   string
		want string
	}{
		{"at the limit", gh, "0123456789", "0123456789"},
		{"one over", gh, "0123456789a", "012345678…"},
		{"characters, not bytes", gh, strings.Repeat("é", 10), strings.Repeat("é", 10)},
		{"emoji is one character on GitHub", gh, strings.Repeat("🙂", 10), strings.Repeat("🙂", 10)},
		{"emoji is two units in Jira", jira, strings.Repeat("🙂", 5), strings.Repeat("🙂", 5)},
		{"emoji over in Jira", jira, "a" + strings.Repeat("🙂", 5), "a" + strings.Repeat("🙂", 4) + "…"},
		{"no space before the marker", gh, "01234567 9ab", "01234567…"},
	} {
		got := tc.l.FitLine(tc.in)
		if got != tc.want || tc.l.Len(got) > tc.l.Max {
			t.Errorf("%s: FitLine(%q) = %q (%d), want %q", tc.name, tc.in, got, tc.l.Len(got), tc.want)
		}
	}
}

func TestTextLimitFit(t *testing.T) {
	tail := "\n<!-- marker -->\n"
	for _, l := range []TextLimit{JiraText, GitHubBody} {
		line := strings.Repeat("x", 99) + "\n"
		// Exactly at the limit: untouched.
		body := strings.Repeat(line, (l.Max-l.Len(tail))/100)
		body += strings.Repeat("y", l.Max-l.Len(tail)-l.Len(body))
		if got := l.Fit(body, tail); got != body+tail {
			t.Errorf("%s: a text at the limit was changed", l.Vendor)
		}
		// One over: cut at a line end, marked, the tail kept whole.
		got := l.Fit(body+"z", tail)
		if n := l.Len(got); n > l.Max {
			t.Errorf("%s: %d characters, over the limit of %d", l.Vendor, n, l.Max)
		}
		if !strings.HasSuffix(got, l.Notice()+tail) || !strings.Contains(got, "cut here to fit "+l.Vendor+"'s limit of ") {
			t.Errorf("%s: the cut text does not end with the notice and the tail: %q", l.Vendor, got[len(got)-200:])
		}
		if cut := strings.TrimSuffix(got, l.Notice()+tail); !strings.HasSuffix(cut, strings.Repeat("x", 99)) {
			t.Errorf("%s: not cut at a line end: %q", l.Vendor, cut[len(cut)-120:])
		}
	}
	if got := JiraText.Notice(); !strings.Contains(got, "32,767") {
		t.Errorf("notice %q", got)
	}
	// UTF-16: an emoji body over Jira's limit in units though not in characters.
	emoji := strings.Repeat(strings.Repeat("🙂", 99)+"\n", 200) // 39,800 units, 20,000 characters
	if got := JiraText.Fit(emoji, tail); JiraText.Len(got) > JiraText.Max || !strings.HasSuffix(got, tail) {
		t.Errorf("emoji: %d units", JiraText.Len(got))
	}
	if got := GitHubBody.Fit(emoji, tail); got != emoji+tail {
		t.Error("emoji: GitHub counts characters, the text fits")
	}
}
