package report

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/coesync/coesync/sync/longtest"
)

// hostilePieces are glued together at random into untrusted text.
var hostilePieces = []string{
	"@", "#", "|", "<", ">", "&", `\`, "`", "*", "_", "[", "]", "(", ")", "!", "~", "$", "{", "}", "^",
	":", "/", "//", "www", ".", "http", "https://", "javascript:", "GH-", "gh", "-", "+", "=", "12", "1.", "3)",
	"channel", "here", "org/team", " ", "  ", "\n", "\r\n", "\t", "é", "日本", "😀", "\u202e", "\u2066", "\x00", "\x1b",
	"\x7f", "\u0085", "\xff", "&#64;", "&amp;", "&lt;", "<script>", "</td>", "<!--", "'", `"`, "a", "Z", "x@y.z",
	"mailto:", "www.", "%", ";", "---", "> ", "    ", "||", `\|`, "[^1]", "![x](y)", "<https://a.b>", ":+1:",
}

func randomHostile(r *rand.Rand) string {
	var b strings.Builder
	for n := 1 + r.IntN(14); n > 0; n-- {
		b.WriteString(hostilePieces[r.IntN(len(hostilePieces))])
	}
	return b.String()
}

// mdEscaped is the set md backslash-escapes; every one must be escaped.
const mdEscaped = "\\`*_[]()!|~${}^#"

// unescapeMD undoes md: backslash escapes, the three entities and the
// ZWJs it inserts.
func unescapeMD(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case strings.HasPrefix(s[i:], "&amp;"):
			b.WriteByte('&')
			i += len("&amp;") - 1
		case strings.HasPrefix(s[i:], "&lt;"):
			b.WriteByte('<')
			i += len("&lt;") - 1
		case strings.HasPrefix(s[i:], "&gt;"):
			b.WriteByte('>')
			i += len("&gt;") - 1
		case strings.HasPrefix(s[i:], zwj):
			i += len(zwj) - 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

var (
	schemeRE = regexp.MustCompile(`[A-Za-z]://`)
	wwwRE    = regexp.MustCompile(`(?i)(^|[^A-Za-z0-9_])www\.`)
	ghRE     = regexp.MustCompile(`(?i)(^|[^A-Za-z0-9_])gh-[0-9]`)
	listRE   = regexp.MustCompile(`^[0-9]+[.)]`)
)

// checkMD asserts what md promises for one input.
func checkMD(t *testing.T, in, out string) {
	t.Helper()
	fail := func(why string) { t.Fatalf("md(%q) = %q: %s", in, out, why) }
	if strings.ContainsAny(out, "\n\r<>") {
		fail("line break or raw < >")
	}
	for i := 0; i < len(out); i++ {
		c := out[i]
		switch {
		case c == '\\':
			if i+1 >= len(out) || !strings.ContainsRune(mdEscaped+"-+=.)", rune(out[i+1])) {
				fail("stray backslash")
			}
			i++
		case c == '&':
			if !strings.HasPrefix(out[i:], "&amp;") && !strings.HasPrefix(out[i:], "&lt;") && !strings.HasPrefix(out[i:], "&gt;") {
				fail("raw &: an entity would be decoded")
			}
		case strings.IndexByte(mdEscaped, c) >= 0:
			fail("unescaped " + string(c))
		}
	}
	for _, mark := range []string{"@", "#"} {
		for i := strings.Index(out, mark); i >= 0; i = next(out, mark, i) {
			if !strings.HasPrefix(out[i+1:], zwj) {
				fail(mark + " without a ZWJ after it: a mention or reference")
			}
		}
	}
	plain := strings.ReplaceAll(strings.ReplaceAll(out, `\`, ""), "&amp;", "&")
	if schemeRE.MatchString(plain) || wwwRE.MatchString(plain) || ghRE.MatchString(plain) {
		fail("auto-link or GH- reference left")
	}
	if strings.HasPrefix(out, "-") || strings.HasPrefix(out, "+") || strings.HasPrefix(out, "=") || listRE.MatchString(out) {
		fail("block marker at the start")
	}
	if got, want := unescapeMD(out), cleanField(in, 1000); got != want {
		t.Fatalf("md(%q) = %q reads %q, want %q", in, out, got, want)
	}
}

func next(s, sub string, i int) int {
	j := strings.Index(s[i+1:], sub)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func TestMarkdownEscapeExamples(t *testing.T) {
	tests := map[string]string{
		"@channel":                    "@\u200dchannel",
		"ping @org/team":              "ping @\u200dorg/team",
		"fixes #12":                   "fixes \\#\u200d12",
		"acme/repo#12":                "acme/repo\\#\u200d12",
		"GH-12":                       "GH-\u200d12",
		"a | b":                       `a \| b`,
		"<script>alert(1)</script>":   `&lt;script&gt;alert\(1\)&lt;/script&gt;`,
		"**bold** _it_ `code`":        `\*\*bold\*\* \_it\_ \` + "`code\\`",
		"[x](https://evil.example)":   `\[x\]\(https` + "\u200d" + `://evil.example\)`,
		"see www.evil.example":        "see www\u200d.evil.example",
		"&#64;channel":                "&amp;\\#\u200d64;channel",
		"1. not a list":               `1\. not a list`,
		"- not a list":                `\- not a list`,
		"line\nbreak\r\n\tand  space": "line break and space",
		"bidi \u202eevil\u2066":       "bidi evil",
		"checkout-api db_pool":        `checkout-api db\_pool`,
		"":                            "",
	}
	for in, want := range tests {
		got := md(in)
		if got != want {
			t.Errorf("md(%q) = %q, want %q", in, got, want)
		}
		checkMD(t, in, got)
	}
}

// Property: for any text, md's output is one line that renders as exactly
// the cleaned text, with nothing GitHub would turn into markup, a mention,
// a reference or a link.
func TestMarkdownEscapeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 2026))
	for range longtest.Iterations(20000, 2000) {
		in := randomHostile(r)
		checkMD(t, in, md(in))
	}
}

// Property: a whole report built from hostile text keeps it inert in every
// format: no mention, reference or HTML in the Markdown, no markup in the
// HTML, and the JSON carries the cleaned text.
func TestReportEscapeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range longtest.Iterations(200, 20) {
		in := seed(t)
		for j := range in.COEs {
			in.COEs[j].Title = randomHostile(r)
			in.COEs[j].Team = randomHostile(r)
			in.COEs[j].Service = randomHostile(r)
			in.COEs[j].Key = randomHostile(r)
		}
		for j := range in.Items {
			in.Items[j].Title = randomHostile(r)
			in.Items[j].Owner = randomHostile(r)
			in.Items[j].Repo = randomHostile(r)
			in.Items[j].Problem = randomHostile(r)
			in.Items[j].URL = randomHostile(r)
		}
		in.Health.WebhooksRejected = map[string]int{randomHostile(r): 2}
		in.Health.LastReconcile[randomHostile(r)] = in.Now
		rep := Build(in)

		md := rep.Markdown()
		for _, line := range strings.Split(md, "\n") {
			if strings.HasPrefix(line, "|") && !strings.HasPrefix(line, "|---") {
				// Cells are separated by " | "; escaped pipes are "\|".
				if strings.Count(line, " | ")+2 != strings.Count(line, "|")-strings.Count(line, `\|`) {
					t.Fatalf("report %d: a cell leaks a pipe: %q", i, line)
				}
			}
		}
		for _, bad := range []string{"<", "@c", "@h", "@o", "#1"} {
			if strings.Contains(md, bad) {
				t.Fatalf("report %d: Markdown contains %q", i, bad)
			}
		}
		for j := strings.Index(md, "]("); j >= 0; j = next(md, "](", j) {
			if rest := md[j+2:]; !strings.HasPrefix(rest, "https://") && !strings.HasPrefix(rest, "http://") && !strings.HasPrefix(rest, "#sync-health)") {
				t.Fatalf("report %d: link to %.40q", i, rest)
			}
		}
		var b strings.Builder
		if err := rep.HTML(&b); err != nil {
			t.Fatal(err)
		}
		doc := parseHTML(t, b.String())
		checkInertHTML(t, doc)
	}
}

func TestCleanField(t *testing.T) {
	tests := map[string]string{
		"  a \n\n b\t c  ":                "a b c",
		"x\x00y\x1bz\x7f":                 "xyz",
		"\u202eevil\u202c \u2067x\u2069":  "evil x",
		"tag\U000E0041\U000E0042s":        "tags",
		"bad \xff utf8":                   "bad \ufffd utf8",
		"\ufeffbom":                       "bom",
		strings.Repeat("é", 300):          strings.Repeat("é", 199) + "…",
		strings.Repeat("ab ", 100) + "cd": strings.TrimRight(strings.Repeat("ab ", 67)[:199], " ") + "…",
	}
	for in, want := range tests {
		if got := cleanField(in, 200); got != want {
			t.Errorf("cleanField(%q) = %q, want %q", in, got, want)
		}
	}
	// Bounded work on huge input.
	if got := cleanField(strings.Repeat("a", 10<<20), 10); got != "aaaaaaaaa…" {
		t.Errorf("huge input: %q", got)
	}
}
