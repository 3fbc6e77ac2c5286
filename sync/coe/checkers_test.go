package coe

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// These checkers read escaped output the way Jira and GitHub would and
// report every construct that would come alive. They are written from the
// renderers' rules, independently of the escapers.

// wikiEscapable is what a backslash escapes in Jira wiki markup.
const wikiEscapable = `-#*_+?^~|%{}[]()!@`

var (
	// A URI scheme and its "//", or a scheme Jira or GitHub link without.
	liveScheme     = regexp.MustCompile(`(?i)[a-z][a-z0-9+.\-]*://|(mailto|news|xmpp|javascript|data|vbscript|callto|tel|sms):`)
	wikiEmoticonRE = regexp.MustCompile(`(?i)(^|[^\\])\((y|n|i|/|x|!|\+|-|\?|on|off|\*|\*[yrgb]|flag|flagoff)\)|[:;]-?[)(PpDd]`)
	wikiLineStart  = regexp.MustCompile(`(?i)^(h[1-6]\.|bq\.|#([ #*]|$)|[*\-|]|\\\\)`)
)

// wikiToken is one character of wiki markup and whether a backslash
// escapes it.
type wikiToken struct {
	r       rune
	escaped bool
}

// wikiTokens reads s the way Jira does: a backslash not preceded by a
// backslash escapes the next character when that is escapable.
func wikiTokens(s string) []wikiToken {
	rs := []rune(s)
	var out []wikiToken
	for i := 0; i < len(rs); i++ {
		if rs[i] == '\\' && i+1 < len(rs) && strings.ContainsRune(wikiEscapable, rs[i+1]) &&
			(i == 0 || rs[i-1] != '\\') {
			out = append(out, wikiToken{rs[i+1], true})
			i++
			continue
		}
		out = append(out, wikiToken{rs[i], false})
	}
	return out
}

// wikiHazards lists what would render as markup in the output of an
// escaper: cell is true for EscapeWikiCell and EscapeWikiNote output.
func wikiHazards(s string, cell bool) []string {
	var hz []string
	add := func(f string, a ...any) { hz = append(hz, fmt.Sprintf(f, a...)) }
	if !utf8.ValidString(s) {
		add("invalid UTF-8")
	}
	for _, r := range s {
		if r == '\n' || r == '\r' {
			add("raw line break")
		} else if unicode.IsControl(r) {
			add("control character %U", r)
		}
	}
	// Forced line breaks: only the cell line separator " \\ " may appear.
	segments := []string{s}
	if cell {
		segments = strings.Split(s, ` \\ `)
	}
	if cell {
		if i := strings.LastIndexByte(s, '['); i > strings.LastIndexByte(s, ']') {
			add("unbalanced [ would pair with a ] in a later cell: %q", clip(s))
		}
		if i := strings.LastIndexByte(s, '{'); i > strings.LastIndexByte(s, '}') {
			add("unbalanced { would pair with a } in a later cell: %q", clip(s))
		}
	}
	for _, seg := range segments {
		if strings.Contains(seg, `\\`) {
			add("forced line break or broken escape in %q", clip(seg))
		}
		if m := wikiLineStart.FindString(seg); m != "" {
			add("line-start markup %q in %q", m, clip(seg))
		}
		hz = append(hz, wikiSegmentHazards(seg, cell)...)
	}
	return hz
}

func wikiSegmentHazards(seg string, cell bool) []string {
	var hz []string
	add := func(f string, a ...any) { hz = append(hz, fmt.Sprintf(f, a...)) }
	toks := wikiTokens(seg)
	alnum := func(i int) bool { return i >= 0 && i < len(toks) && isASCIIAlnum(toks[i].r) }
	for i, t := range toks {
		if cell && t.r == '|' {
			add("pipe in a table cell (escaped or not, it splits the cell)")
			continue
		}
		if t.escaped {
			continue
		}
		switch t.r {
		case '[', ']', '{', '}', '!', '|':
			add("live %q in %q", t.r, clip(seg))
		case '*', '_', '+', '^', '~', '-':
			if !(alnum(i-1) && alnum(i+1)) {
				add("live text effect %q in %q", t.r, clip(seg))
			}
		case '?':
			if i+1 < len(toks) && toks[i+1].r == '?' && !toks[i+1].escaped {
				add("live citation ?? in %q", clip(seg))
			}
		}
	}
	if m := liveScheme.FindString(seg); m != "" {
		add("bare URL scheme %q in %q", m, clip(seg))
	}
	if m := wikiEmoticonRE.FindString(seg); m != "" {
		add("emoticon %q in %q", m, clip(seg))
	}
	return hz
}

// wikiDocHazards checks a whole rendered document: the only live links are
// the allowed ones, there is no macro, image or mention, and every table
// row has as many cells as its table's header.
func wikiDocHazards(doc string, allowed []string) []string {
	var hz []string
	add := func(f string, a ...any) { hz = append(hz, fmt.Sprintf(f, a...)) }
	if !utf8.ValidString(doc) {
		add("invalid UTF-8")
	}
	header := 0
	for n, line := range strings.Split(doc, "\n") {
		// Blank out the allowed links, then look for anything live.
		rest := line
		for _, a := range allowed {
			rest = strings.ReplaceAll(rest, a, " LINK ")
		}
		for _, t := range wikiTokens(rest) {
			if t.escaped {
				continue
			}
			switch t.r {
			case '[', ']', '{', '}', '!':
				add("line %d: live %q: %s", n+1, t.r, clip(line))
			}
		}
		if m := liveScheme.FindString(rest); m != "" {
			add("line %d: bare URL %q: %s", n+1, m, clip(line))
		}
		if m := wikiEmoticonRE.FindString(rest); m != "" {
			add("line %d: emoticon %q: %s", n+1, m, clip(line))
		}
		switch {
		case strings.HasPrefix(line, "||"):
			header = wikiCells(line)
		case strings.HasPrefix(line, "|"):
			if c := wikiCells(line); c != header {
				add("line %d: %d cells under a %d-cell header: %s", n+1, c, header, clip(line))
			}
		default:
			header = 0
		}
	}
	return hz
}

// wikiCells counts the cells of a table row the way Jira Cloud's table
// tokenizer does: every run of pipes separates cells, escaped or not, except
// inside what looks like a link "[...]" or a macro opening "{color:...}",
// escapes not considered, which it skips whole.
func wikiCells(line string) int {
	line = strings.TrimSpace(line)
	cells := -1
	for i := 0; i < len(line); {
		rest := line[i:]
		if m := cloudLinkSpan.FindString(rest); m != "" {
			i += len(m)
			continue
		}
		if m := cloudMacroSpan.FindString(rest); m != "" {
			i += len(m)
			continue
		}
		if m := wikiPipeRuns.FindString(rest); m != "" && strings.HasPrefix(rest, m) {
			cells++
			i += len(m)
			continue
		}
		i++
	}
	return cells
}

var (
	cloudLinkSpan  = regexp.MustCompile(`^\[[^\[\]\n]+\]`)
	cloudMacroSpan = regexp.MustCompile(`^\{((?i:code|noformat|panel|quote|adf|anchor|loremipsum)|color)(:[^{\n}]*)?\}`)
)

// markdownHazards lists what GitHub would turn into markup, a link, a
// mention or a reference in the output of EscapeMarkdown.
func markdownHazards(s string) []string {
	var hz []string
	add := func(f string, a ...any) { hz = append(hz, fmt.Sprintf(f, a...)) }
	if !utf8.ValidString(s) {
		add("invalid UTF-8")
	}
	for _, r := range s {
		if r != '\n' && unicode.IsControl(r) {
			add("control character %U", r)
		}
	}
	// Resolve what GitHub resolves before its filters run: the entities we
	// write, then read escapes.
	for _, line := range strings.Split(s, "\n") {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") {
			add("indented code block: %q", clip(line))
		}
		trimmed := strings.TrimLeft(line, " ")
		if m := markdownLineStart.FindString(trimmed); m != "" {
			add("line-start markup %q: %q", m, clip(line))
		}
		rs := []rune(line)
		escaped := func(i int) bool {
			n := 0
			for j := i - 1; j >= 0 && rs[j] == '\\'; j-- {
				n++
			}
			return n%2 == 1
		}
		for i, r := range rs {
			switch r {
			case '<', '>':
				add("raw %q: %q", r, clip(line))
			case '&':
				rest := string(rs[i:min(i+len(zwspEntity), len(rs))])
				if !(strings.HasPrefix(rest, "&lt;") || strings.HasPrefix(rest, "&gt;") ||
					strings.HasPrefix(rest, "&amp;") || strings.HasPrefix(rest, zwspEntity)) {
					add("raw entity: %q", clip(line))
				}
			case '`', '*', '[', ']', '!', '|', '~', '$', '{', '}':
				if !escaped(i) {
					add("live %q: %q", r, clip(line))
				}
			case '_':
				if !escaped(i) && !(i > 0 && i+1 < len(rs) && isASCIIAlnum(rs[i-1]) && isASCIIAlnum(rs[i+1])) {
					add("live _: %q", clip(line))
				}
			}
		}
		// What GitHub's filters see: the text with entities decoded.
		text := strings.NewReplacer(zwspEntity, zwsp, "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(line)
		text = markdownEscape.ReplaceAllString(text, "$1")
		for _, re := range markdownLive {
			if m := re.FindString(text); m != "" {
				add("live %q: %q", m, clip(line))
			}
		}
	}
	return hz
}

var (
	markdownLineStart = regexp.MustCompile(`^([#>+=*\-]|\d+[.)])`)
	markdownEscape    = regexp.MustCompile(`\\(.)`)
	wikiPipeRuns      = regexp.MustCompile(`\|+`)
)

var markdownLive = []*regexp.Regexp{
	regexp.MustCompile(`@[\p{L}\p{N}_\-]`),          // mentions, teams, e-mail
	regexp.MustCompile(`#[\p{L}\p{N}_\-]`),          // #123, owner/repo#1
	regexp.MustCompile(`(?i)\bgh-\d`),               // GH-1
	regexp.MustCompile(`(?i)(^|[^a-z0-9])www\.`),    // www. autolinks
	regexp.MustCompile(`(?i)[a-z][a-z0-9+.\-]*://`), // scheme autolinks
	regexp.MustCompile(`(?i)(mailto|xmpp|javascript):`),
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
