package coe

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// TrustedDomains are the domains (COESYNC_TRUSTED_LINK_DOMAINS) whose links
// a COE keeps clickable: a link to one of them, or to a subdomain of one,
// renders as a link; every other link from vendor content renders as inert
// text. Entries are lower-case host names without a leading dot.
type TrustedDomains []string

// NewTrustedDomains cleans a list of domains: spaces, a leading "*." or
// ".", a trailing dot and empty entries are dropped, case is folded.
func NewTrustedDomains(domains []string) TrustedDomains {
	var out TrustedDomains
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		d = strings.TrimPrefix(strings.TrimPrefix(d, "*"), ".")
		d = strings.TrimSuffix(d, ".")
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

// Trusts reports whether raw is a safe http(s) URL (SafeURL) whose host is
// a trusted domain or a subdomain of one. "grafana.acme.com" trusts
// "grafana.acme.com" and "eu.grafana.acme.com", never
// "evilgrafana.acme.com" or "grafana.acme.com.evil.example".
func (t TrustedDomains) Trusts(raw string) bool {
	if len(t) == 0 {
		return false
	}
	if _, ok := SafeURL(raw); !ok {
		return false
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, d := range t {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// wikiExternalLink renders a link from vendor content: "[url]" when t
// trusts it, else the address as inert, escaped text (safe in a table
// cell too); "" for an empty address.
func wikiExternalLink(t TrustedDomains, raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if t.Trusts(raw) {
		return wikiLink(raw)
	}
	return EscapeWikiCell(raw)
}

// noteURL finds the http(s) addresses in a note: up to the first space or
// character that cannot end an address in prose.
var noteURL = regexp.MustCompile(`(?i)https?://[^\s\[\]|{}<>"'` + "`" + `\\^]+`)

// escapeNoteTrusting is EscapeWikiNote that keeps the links to trusted
// domains clickable. Each trusted address is swapped for a placeholder of
// letters and digits (which the escaper leaves as it is), the text is
// escaped as usual, and the placeholders become links: the escaping,
// its cap and its handling of line starts stay exactly EscapeWikiNote's.
func escapeNoteTrusting(t TrustedDomains, s string) string {
	if len(t) == 0 || !strings.Contains(strings.ToLower(s), "http") {
		return EscapeWikiNote(s)
	}
	nonce := 0
	for strings.Contains(s, placeholder(nonce, 0)[:12]) {
		nonce++
	}
	var links []string
	swapped := noteURL.ReplaceAllStringFunc(s, func(m string) string {
		raw := strings.TrimRight(m, ".,;:!?)")
		if !t.Trusts(raw) {
			return m
		}
		links = append(links, wikiLink(raw))
		return placeholder(nonce, len(links)-1) + m[len(raw):]
	})
	out := EscapeWikiNote(swapped)
	for i, l := range links {
		out = strings.Replace(out, placeholder(nonce, i), l, 1)
	}
	return out
}

// placeholder is the stand-in for the i-th trusted link of a note.
func placeholder(nonce, i int) string {
	return fmt.Sprintf("coesynclnk%02dx%04dx", nonce%100, i)
}
