package coe

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length caps applied to untrusted text before it is escaped. They count
// runes of the cleaned text; a capped text ends with an ellipsis.
const (
	// MaxFieldRunes caps one field: a title, a name, a log entry summary.
	MaxFieldRunes = 2000
	// MaxNoteRunes caps the content of one PagerDuty note.
	MaxNoteRunes = 30000
)

const (
	ellipsis = "…"
	// zwsp is U+200B ZERO WIDTH SPACE. It is invisible, so the text reads
	// exactly as it was written, but it splits the character sequences that
	// renderers recognise ("http://", ":P", "h1.") so they stay plain text.
	zwsp = "\u200b"
	// zwspEntity is zwsp for Markdown: GitHub decodes it into the text node
	// its mention and reference filters scan, and it stays visible to
	// whoever edits the raw body.
	zwspEntity = "&#8203;"
	// cellPipe replaces '|' inside Jira table cells; see EscapeWikiCell.
	cellPipe = "\u2502" // │ BOX DRAWINGS LIGHT VERTICAL
)

// Jira wiki markup
//
// Jira reads wiki markup in two ways: Jira Server/Data Center renders it with
// the atlassian-renderer, Jira Cloud converts it to ADF (Atlassian's
// editor-wikimarkup-transformer, against which these rules were checked).
// The escaping relies only on what both agree on:
//
//   - A backslash escapes exactly - # * _ + ? ^ ~ | % { } [ ] ( ) ! @, and
//     only when the backslash is not itself preceded by a backslash. Two
//     backslashes are a forced line break. So a literal backslash from the
//     input is written as '\' + ZWSP whenever the next character could pair
//     with it; that keeps it literal and keeps the next escape valid.
//   - Always escaped: [ ] (links, mentions [~id], attachments [^f]), { }
//     (macros {html}, {color}, {code}, {{monospace}}, {*} and friends), !
//     (images !url!), | (tables, link separators).
//   - Text effects * _ + ^ ~ - are escaped unless the character sits between
//     two ASCII letters or digits: Jira opens no effect right after a letter
//     or digit, so "checkout-api" and "db_pool_size"
//     stay readable, and everything else ("-deleted-", "*bold*", a leading
//     "* " or "- ", "----") is escaped. '?' is escaped when doubled
//     (??citation??).
//   - Emoticons become icons: "(" before a code such as (y) (x) (/) (!) (on)
//     is escaped; ":" and ";" before ) ( P D - get a ZWSP.
//   - Auto-links: Jira links bare http://, https://, ftp://, irc://,
//     mailto: and other schemes. A ZWSP goes between the scheme and its
//     colon ("http\u200b://evil"). Readers see the URL unchanged, nothing is
//     clickable, and a copied URL fails to open rather than opening the
//     attacker's page. A visible defang such as "hxxp" would change what
//     the reviewer reads; an HTML entity is not decoded by Jira Cloud.
//   - Line starts (only the first character of a field or cell line can be
//     one): "#" before a space, "#" or "*" (a numbered list) is escaped;
//     "h1." to "h6." and "bq." get a ZWSP before the dot.
//   - Inside table cells '|' cannot be escaped (Jira Cloud's table parser
//     splits cells on every pipe, escaped or not), so it becomes '│'
//     (U+2502). A row must stay on one line: the line breaks of a note
//     become Jira's forced line break " \\ ", all others become spaces.
//     An unbalanced "[" or "{" in a cell becomes ［ or ｛ (see
//     closeCellSpans).
//
// Jira issue keys (PROJ-123) are left as they are: Jira links them to its own
// issues, which notifies no one.

// EscapeWiki makes untrusted text safe to place inline in Jira wiki markup
// outside tables: it renders as the literal text, with no link, image,
// mention, macro, emoticon or text effect. Line breaks become spaces and the
// text is capped at MaxFieldRunes.
func EscapeWiki(s string) string {
	return escapeWiki(s, MaxFieldRunes, false, false)
}

// EscapeWikiCell is EscapeWiki for a Jira table cell: pipes also become
// '│', so the text never ends the cell. Line breaks become spaces. Capped at
// MaxFieldRunes.
func EscapeWikiCell(s string) string {
	return escapeWiki(s, MaxFieldRunes, true, false)
}

// EscapeWikiNote is EscapeWikiCell for the content of a PagerDuty note: its
// line breaks become forced line breaks (" \\ "), which keep the row on one
// line, and it is capped at MaxNoteRunes.
func EscapeWikiNote(s string) string {
	return escapeWiki(s, MaxNoteRunes, true, true)
}

func escapeWiki(s string, maxRunes int, cell, multiline bool) string {
	var lines []string
	if multiline {
		lines = splitLines(prepare(s, maxRunes, func(s string) string {
			return strings.Join(splitLines(s), "\n")
		}))
	} else {
		lines = []string{prepare(s, maxRunes, func(s string) string {
			return strings.Join(strings.Fields(s), " ")
		})}
	}
	var b strings.Builder
	for i, line := range lines {
		if i > 0 {
			b.WriteString(` \\ `)
		}
		escapeWikiLine(&b, line, cell)
	}
	if cell {
		return closeCellSpans(b.String())
	}
	return b.String()
}

// closeCellSpans keeps a table cell from reaching into the next one. Jira
// Cloud splits a row into cells before it reads escapes, and while doing so
// it skips over anything that looks like a link "[...]" or a macro opening
// "{color:...}", escaped or not. An escaped "[" that no "[" or "]" follows
// in its own cell would pair with a "]" in a later cell and swallow the
// separator between them, and likewise "{" with "}". So every "[" after the
// cell's last "]", and every "{" after its last "}", is written as its
// fullwidth form ［ ｛. Balanced text is left as it is.
func closeCellSpans(s string) string {
	s = replaceAfterLast(s, ']', `\[`, "［")
	return replaceAfterLast(s, '}', `\{`, "｛")
}

func replaceAfterLast(s string, closer byte, old, repl string) string {
	last := strings.LastIndexByte(s, closer)
	tail := s[last+1:]
	if !strings.Contains(tail, old) {
		return s
	}
	return s[:last+1] + strings.ReplaceAll(tail, old, repl)
}

// splitLines splits cleaned text into trimmed lines, dropping leading and
// trailing blank lines and keeping at most one blank line in a row.
func splitLines(s string) []string {
	raw := strings.Split(s, "\n")
	out := make([]string, 0, len(raw))
	blank := false
	for _, l := range raw {
		l = strings.TrimSpace(l)
		if l == "" {
			if len(out) > 0 {
				blank = true
			}
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, l)
	}
	return out
}

// wikiEmoticons are the parenthesised emoticon codes of Jira (Server and
// Cloud), which render as icons.
var wikiEmoticons = []string{
	"(y)", "(n)", "(i)", "(/)", "(x)", "(!)", "(+)", "(-)", "(?)", "(on)", "(off)",
	"(*)", "(*y)", "(*r)", "(*g)", "(*b)", "(flag)", "(flagoff)",
}

func escapeWikiLine(b *strings.Builder, line string, cell bool) {
	rs := []rune(line)
	at := func(i int) rune {
		if i < 0 || i >= len(rs) {
			return 0
		}
		return rs[i]
	}
	breakSchemes := schemeBreaks(rs)
	headingDot := lineStartDot(rs)
	for i, r := range rs {
		prev, next := at(i-1), at(i+1)
		if breakSchemes[i] {
			b.WriteString(zwsp)
		}
		if i == headingDot {
			b.WriteString(zwsp)
		}
		switch r {
		case '\\':
			b.WriteRune(r)
			if !(isASCIIAlnum(next) || next == ' ') {
				b.WriteString(zwsp)
			}
		case '|':
			if cell {
				b.WriteString(cellPipe)
			} else {
				b.WriteString(`\|`)
			}
		case '[', ']', '{', '}', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '*', '_', '+', '^', '~', '-':
			if !(isASCIIAlnum(prev) && isASCIIAlnum(next)) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '?':
			if prev == '?' || next == '?' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '#':
			// A list is "#" then "#", "*" or a space at a line start.
			if i == 0 && (next == 0 || next == ' ' || next == '#' || next == '*') {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '@':
			if !isASCIIAlnum(prev) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '(':
			if hasEmoticonAt(rs, i) || prev == ':' || prev == ';' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case ')':
			if prev == ':' || prev == ';' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case ':', ';':
			b.WriteRune(r)
			switch next {
			case ')', '(', 'P', 'p', 'D', 'd', '-':
				b.WriteString(zwsp)
			}
		default:
			b.WriteRune(r)
		}
	}
}

func hasEmoticonAt(rs []rune, i int) bool {
	for _, e := range wikiEmoticons {
		n := utf8.RuneCountInString(e)
		if i+n <= len(rs) && strings.EqualFold(string(rs[i:i+n]), e) {
			return true
		}
	}
	return false
}

// lineStartDot returns the index of the dot of a leading "h1." .. "h6." or
// "bq." (any case), before which a ZWSP keeps Jira from reading a heading
// or a quote; -1 if the line starts otherwise.
func lineStartDot(rs []rune) int {
	if len(rs) >= 3 && rs[2] == '.' {
		a, c := unicode.ToLower(rs[0]), unicode.ToLower(rs[1])
		if (a == 'h' && c >= '1' && c <= '6') || (a == 'b' && c == 'q') {
			return 2
		}
	}
	return -1
}

// colonSchemes are URI schemes that Jira or GitHub link without "//".
// Renderers look for them anywhere, even glued to a preceding word.
var colonSchemes = []string{
	"mailto", "news", "xmpp", "tel", "sms", "callto", "javascript", "data", "vbscript",
}

// schemeBreaks marks the rune indexes before which a ZWSP must be written:
// the ':' of any "scheme://" and of the colonSchemes.
func schemeBreaks(rs []rune) map[int]bool {
	var marks map[int]bool
	for i, r := range rs {
		if r != ':' || i == 0 {
			continue
		}
		start := i
		for start > 0 && isSchemeRune(rs[start-1]) {
			start--
		}
		if start == i {
			continue
		}
		slashes := i+2 < len(rs) && rs[i+1] == '/' && rs[i+2] == '/'
		if !slashes && !hasColonScheme(strings.ToLower(string(rs[start:i]))) {
			continue
		}
		if marks == nil {
			marks = make(map[int]bool)
		}
		marks[i] = true
	}
	return marks
}

func hasColonScheme(word string) bool {
	for _, s := range colonSchemes {
		if strings.HasSuffix(word, s) {
			return true
		}
	}
	return false
}

func isSchemeRune(r rune) bool {
	return isASCIIAlnum(r) || r == '+' || r == '.' || r == '-'
}

func isASCIILetter(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

func isASCIIAlnum(r rune) bool {
	return isASCIILetter(r) || (r >= '0' && r <= '9')
}

// GitHub-flavoured Markdown
//
// EscapeMarkdown backslash-escapes Markdown punctuation and replaces < > &
// with entities, so no emphasis, code, link, image, table, raw HTML or
// block structure appears. GitHub's mention, issue-reference and auto-link
// filters run on the rendered text, after Markdown escapes and entities are
// resolved, so those are broken with a zero-width space written as the
// entity &#8203; (the approach Renovate uses in pull-request bodies):
// "@&#8203;user", "#&#8203;123", "GH-&#8203;1", "http&#8203;://",
// "www&#8203;.". Commit SHAs are left alone: GitHub links one only when the
// commit exists in the repository, and such a link notifies no one.

// EscapeMarkdown makes untrusted text safe to place in GitHub-flavoured
// Markdown text (a paragraph or list item, not a code span): it renders as
// the literal text, with no mention, reference, link, image, HTML or
// formatting. Line breaks are kept. The text is capped at MaxNoteRunes
// before escaping; escaping can lengthen it.
func EscapeMarkdown(s string) string {
	s = prepare(s, MaxNoteRunes, func(s string) string { return s })
	raw := strings.Split(s, "\n")
	var b strings.Builder
	blank := 0
	first := true
	for _, line := range raw {
		line = strings.TrimRight(line, " ")
		if strings.TrimSpace(line) == "" {
			blank++
			continue
		}
		if !first {
			b.WriteString("\n")
			if blank > 0 {
				b.WriteString("\n")
			}
		}
		first = false
		blank = 0
		escapeMarkdownLine(&b, strings.TrimLeft(line, " "))
	}
	return b.String()
}

func escapeMarkdownLine(b *strings.Builder, line string) {
	rs := []rune(line)
	at := func(i int) rune {
		if i < 0 || i >= len(rs) {
			return 0
		}
		return rs[i]
	}
	breaks := schemeBreaks(rs)
	// An ordered-list marker "12." or "12)" at the line start.
	listDot := -1
	if n := leadingDigits(rs); n > 0 && n < len(rs) && (rs[n] == '.' || rs[n] == ')') {
		listDot = n
	}
	for i, r := range rs {
		prev, next := at(i-1), at(i+1)
		if breaks[i] || (r == '.' && isWWWDot(rs, i)) {
			b.WriteString(zwspEntity)
		}
		switch r {
		case '\\', '`', '*', '[', ']', '!', '|', '~', '$', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '_':
			if !(isASCIIAlnum(prev) && isASCIIAlnum(next)) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '#':
			if i == 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
			if isMarkdownRefRune(next) {
				b.WriteString(zwspEntity) // #123, owner/repo#123
			}
		case '@':
			b.WriteRune(r)
			if isMarkdownRefRune(next) {
				b.WriteString(zwspEntity) // @user, @org/team, user@host
			}
		case '-', '+', '=':
			if i == 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
			if r == '-' && isGHRef(rs, i) {
				b.WriteString(zwspEntity) // GH-123
			}
		case '.', ')':
			if i == listDot {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
}

// isWWWDot reports whether rs[i] is the dot of a "www." that starts a word,
// which GitHub links without a scheme.
func isWWWDot(rs []rune, i int) bool {
	if i < 3 || !strings.EqualFold(string(rs[i-3:i]), "www") {
		return false
	}
	return i == 3 || !isASCIIAlnum(rs[i-4])
}

// isGHRef reports whether rs[i] is the dash of a "GH-<digit>" that starts a
// word, GitHub's alternative issue reference.
func isGHRef(rs []rune, i int) bool {
	if i < 2 || i+1 >= len(rs) || rs[i+1] < '0' || rs[i+1] > '9' {
		return false
	}
	if !strings.EqualFold(string(rs[i-2:i]), "gh") {
		return false
	}
	return i == 2 || !isASCIIAlnum(rs[i-3])
}

func isMarkdownRefRune(r rune) bool {
	return isASCIIAlnum(r) || r == '_' || r == '-' || (r > 127 && (unicode.IsLetter(r) || unicode.IsDigit(r)))
}

func leadingDigits(rs []rune) int {
	n := 0
	for n < len(rs) && rs[n] >= '0' && rs[n] <= '9' {
		n++
	}
	return n
}

// CleanText prepares untrusted text for any output: invalid UTF-8 becomes
// U+FFFD, CR LF and CR and the Unicode line and paragraph separators become
// LF, tabs become spaces, and control characters, bidirectional overrides
// and isolates, the byte-order mark and Unicode tag characters (invisible
// "ASCII smuggling") are removed.
func CleanText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(unicode.ReplacementChar)
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue
			}
			b.WriteByte('\n')
		case r == '\n', r == '\u2028', r == '\u2029', r == '\u0085':
			b.WriteByte('\n')
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20, r >= 0x7f && r <= 0x9f:
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		case r == 0xfeff, r == 0xfffe, r == 0xffff:
		case r >= 0xe0000 && r <= 0xe007f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Truncate caps s at maxRunes runes; a capped text ends with "…" (counted
// in maxRunes) after its trailing spaces are trimmed. It reads no further
// than it needs to.
func Truncate(s string, maxRunes int) string {
	if maxRunes <= 0 {
		return ""
	}
	n, cut := 0, 0
	for i := range s {
		if n == maxRunes-1 {
			cut = i
		}
		if n == maxRunes {
			return strings.TrimRight(s[:cut], " \n") + ellipsis
		}
		n++
	}
	return s
}

// prepare cleans untrusted text capped at maxRunes. Only a bounded prefix
// of s is read, so a huge input costs no more than a long one; text cut
// there still ends with "…".
func prepare(s string, maxRunes int, tidy func(string) string) string {
	limit := 8*maxRunes + 64 // bytes: at least twice maxRunes runes
	cut := false
	if len(s) > limit {
		for limit > 0 && !utf8.RuneStart(s[limit]) {
			limit--
		}
		s, cut = s[:limit], true
	}
	s = tidy(CleanText(s))
	if cut {
		s = strings.TrimRight(s, " \n") + ellipsis
	}
	return Truncate(s, maxRunes)
}
