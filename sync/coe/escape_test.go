package coe

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coesync/coesync/sync/longtest"
)

func TestEscapeWiki(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Checkout API returning 5xx errors", "Checkout API returning 5xx errors"},
		{"intra-word punctuation stays", "checkout-api db_pool_size 2026-11-23 a+b x^2", "checkout-api db_pool_size 2026-11-23 a+b x^2"},
		{"link", "[x|http://evil]", `\[x\|http` + zwsp + `://evil\]`},
		{"mention", "[~accountid:5b10a2844c20165700ede21g]", `\[\~accountid:5b10a2844c20165700ede21g\]`},
		{"user mention", "[~admin]", `\[\~admin\]`},
		{"html macro", "{html}<script>{html}", `\{html\}<script>\{html\}`},
		{"color macro", "{color:red}x{color}", `\{color:red\}x\{color\}`},
		{"noformat and code", "{noformat}{code}", `\{noformat\}\{code\}`},
		{"image", "!http://x/img.png!", `\!http` + zwsp + `://x/img.png\!`},
		{"bare urls", "see https://evil.example and mailto:a@b.example", `see https` + zwsp + `://evil.example and mailto` + zwsp + `:a@b.example`},
		{"heading", "h1. Title", "h1" + zwsp + ". Title"},
		{"heading upper case", "H3. Title", "H3" + zwsp + ". Title"},
		{"quote", "bq. quoted", "bq" + zwsp + ". quoted"},
		{"bullet", "* item", `\* item`},
		{"numbered", "# item", `\# item`},
		{"dash list", "- item", `\- item`},
		{"ruler", "----", `\-\-\-\-`},
		{"hash mid-line", "incident #123", "incident #123"},
		{"hash at start, not a list", "#123 on fire", "#123 on fire"},
		{"nested list", "#* item", `\#\* item`},
		{"effects", "*b* _i_ -d- +u+ ^s^ ~t~", `\*b\* \_i\_ \-d\- \+u\+ \^s\^ \~t\~`},
		{"citation", "??cite?? why?", `\?\?cite\?\? why?`},
		{"emoticons", "(y) (on) :) :P ;) (P1)", `\(y) \(on) :` + zwsp + `\) :` + zwsp + `P ;` + zwsp + `\) (P1)`},
		{"word-start at", "@team mail@example.com", `\@team mail@example.com`},
		{"backslashes", `C:\temp \\srv x\[y trail\`, `C:\temp \` + zwsp + `\srv x\` + zwsp + `\[y trail\` + zwsp},
		{"pipe", "a|b", `a\|b`},
		{"newlines collapse", "one\ntwo\r\n\tthree", "one two three"},
		{"control chars", "a\x00b\x1b[31mc\u202ed\ufeffe", `ab\[31mcde`},
		{"invalid utf-8", "bad\xffbyte", "bad\ufffdbyte"},
		{"trimmed", "  spaced  ", "spaced"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EscapeWiki(tt.in)
			if got != tt.want {
				t.Errorf("EscapeWiki(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if hz := wikiHazards(got, false); len(hz) > 0 {
				t.Errorf("EscapeWiki(%q) = %q has hazards: %v", tt.in, got, hz)
			}
		})
	}
}

func TestEscapeWikiCell(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"pipes", "| a || b |", "│ a ││ b │"},
		{"lines become spaces", "one\n\n* two\r\nh1. three\n", `one \* two h1. three`},
		{"link", "[x|http://evil]", `\[x│http` + zwsp + `://evil\]`},
		{"heading", "h1. three", "h1" + zwsp + ". three"},
		{"blank", " \n ", ""},
		{"balanced brackets stay", "[WARN] {x}", `\[WARN\] \{x\}`},
		{"unbalanced openers become fullwidth", "a [b [c] d [e {color:red", `a \[b \[c\] d ［e ｛color:red`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EscapeWikiCell(tt.in)
			if got != tt.want {
				t.Errorf("EscapeWikiCell(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if hz := wikiHazards(got, true); len(hz) > 0 {
				t.Errorf("EscapeWikiCell(%q) = %q has hazards: %v", tt.in, got, hz)
			}
		})
	}
}

func TestEscapeWikiNote(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lines become forced breaks", "one\n\n\n* two\r\nh1. three\n", `one \\  \\ \* two \\ h1` + zwsp + `. three`},
		{"pipes", "a | b", "a │ b"},
		{"trailing backslash before a break", "a\\\nb", `a\` + zwsp + ` \\ b`},
		{"surrounding blank lines dropped", "\n\n  text  \n\n", "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EscapeWikiNote(tt.in)
			if got != tt.want {
				t.Errorf("EscapeWikiNote(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if hz := wikiHazards(got, true); len(hz) > 0 {
				t.Errorf("EscapeWikiNote(%q) = %q has hazards: %v", tt.in, got, hz)
			}
		})
	}
}

func TestEscapeCaps(t *testing.T) {
	long := strings.Repeat("abcdefghij", 5000) // 50,000 runes
	for _, tt := range []struct {
		name string
		esc  func(string) string
		max  int
	}{
		{"EscapeWiki", EscapeWiki, MaxFieldRunes},
		{"EscapeWikiCell", EscapeWikiCell, MaxFieldRunes},
		{"EscapeWikiNote", EscapeWikiNote, MaxNoteRunes},
		{"EscapeMarkdown", EscapeMarkdown, MaxNoteRunes},
	} {
		got := tt.esc(long)
		if n := utf8.RuneCountInString(got); n != tt.max {
			t.Errorf("%s: %d runes, want %d", tt.name, n, tt.max)
		}
		if !strings.HasSuffix(got, "…") {
			t.Errorf("%s: capped text does not end with an ellipsis", tt.name)
		}
	}
	// A multi-byte text is cut on a rune boundary.
	if got := Truncate(strings.Repeat("é", 10), 4); got != "ééé…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("short", 10); got != "short" {
		t.Errorf("Truncate = %q", got)
	}
}

func TestEscapeMarkdown(t *testing.T) {
	e := zwspEntity
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Add a canary stage to checkout-api deploys", "Add a canary stage to checkout-api deploys"},
		{"mention", "@user", "@" + e + "user"},
		{"team", "@org/team", "@" + e + "org/team"},
		{"email", "a@b.example", "a@" + e + "b.example"},
		{"issue refs", "#123 owner/repo#1 GH-1 gh-2 AGH-3", `\#` + e + "123 owner/repo#" + e + "1 GH-" + e + "1 gh-" + e + "2 AGH-3"},
		{"html", "<img src=x>", "&lt;img src=x&gt;"},
		{"entity", "&#64;user &amp;", "&amp;#" + e + "64;user &amp;amp;"},
		{"link", "[x](http://evil)", `\[x\](http` + e + "://evil)"},
		{"image", "![i](x.png)", `\!\[i\](x.png)`},
		{"www", "www.evil.example awww.x", "www" + e + ".evil.example awww.x"},
		{"emphasis and code", "*b* _i_ `c` ~s~ snake_case", "\\*b\\* \\_i\\_ \\`c\\` \\~s\\~ snake_case"},
		{"table and math", "| a | $x$", `\| a \| \$x\$`},
		{"line starts", "# h\n> q\n- l\n+ p\n1. o\n12) p\n===", `\#` + " h\n&gt; q\n\\- l\n\\+ p\n1\\. o\n12\\) p\n\\==="},
		{"indentation dropped", "    code", "code"},
		{"blank lines collapse", "a\n\n\n\nb\n", "a\n\nb"},
		{"backslash", `a\b`, `a\\b`},
		{"control and invalid", "a\x00\x1b\xffb", "a\ufffdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EscapeMarkdown(tt.in)
			if got != tt.want {
				t.Errorf("EscapeMarkdown(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if hz := markdownHazards(got); len(hz) > 0 {
				t.Errorf("EscapeMarkdown(%q) = %q has hazards: %v", tt.in, got, hz)
			}
		})
	}
}

// hostileAlphabet are the pieces random hostile texts are made of.
var hostileAlphabet = []string{
	"[", "]", "|", "||", "{", "}", "!", "~", "^", "*", "_", "+", "-", "?", "??", "#", "@", "(", ")",
	":", ";", "\\", "\\\\", "`", "$", "<", ">", "&", "=", ".", "/", "//", " ", " ", " ", "\n", "\r\n",
	"\t", "a", "Z", "7", "é", "日", "\u200b", "\u202e", "\x00", "\x1b", "\xff", "\xc3", "\U0001F600",
	"http", "https://", "mailto:", "www.", "h1.", "bq.", "gh-1", "GH-", "html", "color:red",
	"~accountid:", "y", "on", "P", "D", "x", "1.", "12)", "----", "&#64;", "&#8203;",
}

func randomHostile(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(40); n >= 0; n-- {
		if r.IntN(8) == 0 {
			b.WriteString(hostileStrings[r.IntN(len(hostileStrings)-1)])
			continue
		}
		b.WriteString(hostileAlphabet[r.IntN(len(hostileAlphabet))])
	}
	return b.String()
}

// TestEscapePropertiesHostileStrings: no hostile input leaves anything live.
func TestEscapePropertiesHostileStrings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	inputs := append([]string{}, hostileStrings...)
	for range longtest.Iterations(3000, 300) {
		inputs = append(inputs, randomHostile(r))
	}
	for _, in := range inputs {
		checkEscapers(t, in)
	}
}

func checkEscapers(t *testing.T, in string) {
	t.Helper()
	if out := EscapeWiki(in); len(wikiHazards(out, false)) > 0 {
		t.Errorf("EscapeWiki(%q) = %q: %v", in, out, wikiHazards(out, false))
	}
	for name, esc := range map[string]func(string) string{"EscapeWikiCell": EscapeWikiCell, "EscapeWikiNote": EscapeWikiNote} {
		if out := esc(in); len(wikiHazards(out, true)) > 0 {
			t.Errorf("%s(%q) = %q: %v", name, in, out, wikiHazards(out, true))
		}
	}
	if out := EscapeMarkdown(in); len(markdownHazards(out)) > 0 {
		t.Errorf("EscapeMarkdown(%q) = %q: %v", in, out, markdownHazards(out))
	}
}

func FuzzEscapers(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { checkEscapers(t, in) })
}

// The checkers themselves must catch what they are meant to catch.
func TestCheckersCatchLiveMarkup(t *testing.T) {
	for _, s := range []string{
		"[x|http://evil]", "{html}", "!x.png!", "[~admin]", "http://evil", "h1. x", "* x", "a\\\\b",
		"(y)", ":P", "-d-", "??c??", "x\\\\[y]", "a\nb",
	} {
		if len(wikiHazards(s, false)) == 0 {
			t.Errorf("wikiHazards(%q) found nothing", s)
		}
	}
	if len(wikiHazards(`a \| b`, true)) == 0 {
		t.Error("wikiHazards missed an escaped pipe in a cell")
	}
	for _, s := range []string{
		"@user", "#1", "GH-1", "<b>", "[x](y)", "`c`", "www.x", "https://x", "&#64;", "# h", "1. x", "    code",
		"@&#8203;ok but @bad",
	} {
		if len(markdownHazards(s)) == 0 {
			t.Errorf("markdownHazards(%q) found nothing", s)
		}
	}
	if hz := wikiDocHazards("| a | b |\n| c \\| d |", nil); len(hz) == 0 {
		t.Error("wikiDocHazards missed a broken row")
	}
}

func TestCleanText(t *testing.T) {
	in := "a\r\nb\rc\u2028d\te\x00\x7f\u0085f\u202a\u2066g\U000E0041h\xffi"
	want := "a\nb\nc\nd e\nfg" + "h\ufffdi"
	if got := CleanText(in); got != want {
		t.Errorf("CleanText = %q, want %q", got, want)
	}
}

// Schemes and "www." are recognised in any case, and the control ranges
// CleanText removes end exactly where they should.
func TestEscapeCaseAndBoundaries(t *testing.T) {
	for _, tc := range []struct{ in, wiki, md string }{
		{"MAILTO:a@b.c", "MAILTO\u200b:a@b.c", "MAILTO&#8203;:a@&#8203;b.c"},
		{"JavaScript:alert(1)", "JavaScript\u200b:alert(1)", "JavaScript&#8203;:alert(1)"},
		{"WWW.evil.com", "WWW.evil.com", "WWW&#8203;.evil.com"},
		{"xWWW.evil.com", "xWWW.evil.com", "xWWW.evil.com"}, // not at a word start
	} {
		if got := EscapeWiki(tc.in); got != tc.wiki {
			t.Errorf("EscapeWiki(%q) = %q, want %q", tc.in, got, tc.wiki)
		}
		if got := EscapeMarkdown(tc.in); got != tc.md {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", tc.in, got, tc.md)
		}
	}
	for _, tc := range []struct {
		r    rune
		kept bool
	}{
		{0x1f, false}, {0x20, true}, {0x7e, true}, {0x7f, false}, {0x9f, false}, {0xa0, true},
		{0x2027, true}, {0x202a, false}, {0x202e, false}, {0x202f, true},
		{0x2065, true}, {0x2066, false}, {0x2069, false}, {0x206a, true},
		{0xdffff, true}, {0xe0000, false}, {0xe007f, false}, {0xe0080, true},
	} {
		in := "a" + string(tc.r) + "b"
		want := "ab"
		if tc.kept {
			want = in
		}
		if got := CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
}
