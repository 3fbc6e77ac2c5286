package engine

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", path, got)
	}
}

// hostileItemTexts are action-item texts (from PagerDuty notes, edited in
// Jira by anyone) that try to make the GitHub mirror link, mention, embed
// or run something.
var hostileItemTexts = []string{
	"[x|http://evil.example/login] fix the pool",
	"{html}<script>alert(1)</script>{html}",
	"{color:red}URGENT{color} !http://evil.example/x.png! [~accountid:5b10a2844c20165700ede21g]",
	"ping @org/team and @user about #123 and owner/repo#1",
	"<img src=x onerror=alert(1)> <a href=\"http://evil.example\">click</a>",
	"![tracker](http://evil.example/t.png) [login](http://evil.example/login) <http://evil.example>",
	"bad \xff\xfe bytes \xc3",
	strings.Repeat("very long action item text ", 40),
}

// TestHostileActionItemsLandInert renders the GitHub issue of each
// hostile action item (title and body, with the text as summary, owner
// and priority, and hostile URLs) and wants the body inert (no mention,
// link, image or HTML of the attacker's), valid UTF-8, and a title GitHub
// accepts. Titles are plain text on GitHub: no Markdown, no mention.
func TestHostileActionItemsLandInert(t *testing.T) {
	s := &ItemSyncer{}
	c := store.COE{TicketKey: "OPS-7", TicketURL: "https://acme.atlassian.net/browse/OPS-7",
		IncidentNumber: 42, IncidentURL: "javascript:alert(1)"}
	var out strings.Builder
	live := []*regexp.Regexp{
		regexp.MustCompile(`(^|[^\\&])@[A-Za-z0-9]`), // a mention
		regexp.MustCompile(`!\[`),                    // an image
		regexp.MustCompile(`<[a-zA-Z/]`),             // raw HTML
		regexp.MustCompile(`\]\((javascript|http://evil)`),
		regexp.MustCompile(`https?://evil`),     // an autolink
		regexp.MustCompile(`(^|[^\\&;])#[0-9]`), // an issue reference
	}
	for i, text := range hostileItemTexts {
		ji := coe.JiraItem{Key: fmt.Sprintf("OPS-%d", 100+i), URL: "javascript:alert(document.cookie)",
			Summary: text, AssigneeName: text, Priority: text, Due: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
		title := issueTitle(c.TicketKey, coe.CleanText(ji.Summary))
		body := s.body(c, ji, "")
		if n := utf8.RuneCountInString(title); n > coe.GitHubTitle.Max {
			t.Errorf("item %d: title of %d characters; GitHub refuses more than %d", i, n, coe.GitHubTitle.Max)
		}
		for _, part := range []string{title, body} {
			if !utf8.ValidString(part) {
				t.Errorf("item %d: invalid UTF-8 in %q", i, part)
			}
		}
		// The marker and the first line (links built from ids, the
		// hostile URLs already replaced by "#") are ours; everything else
		// must be inert.
		if !strings.HasPrefix(body, "Corrective action from the COE [OPS-7](https://acme.atlassian.net/browse/OPS-7) for PagerDuty incident [#42](#).\n") {
			t.Errorf("item %d: a hostile URL was linked:\n%s", i, body)
		}
		_, rest, _ := strings.Cut(strings.Replace(body, Marker(ji.Key), "", 1), "\n")
		for _, re := range live {
			if m := re.FindString(rest); m != "" {
				t.Errorf("item %d: body has something live (%q matches %s):\n%s", i, m, re, body)
			}
		}
		if k, ok := KeyFromBody(body); !ok || k != ji.Key {
			t.Errorf("item %d: marker reads back as %q, %v", i, k, ok)
		}
		fmt.Fprintf(&out, "## Item %d\n\nTitle: %s\n\n%s\n", i+1, title, body)
	}
	golden(t, "hostile_items.md", out.String())
}

// TestIssueTitleFitsGitHub: a title cut to GitHub's limit reads back as
// the Jira summary it came from, so the cut is never synced back to Jira
// as an edit.
func TestIssueTitleFitsGitHub(t *testing.T) {
	long := strings.Repeat("é", 255)
	title := issueTitle("OPS-12345", long)
	if n := utf8.RuneCountInString(title); n != coe.GitHubTitle.Max {
		t.Fatalf("title has %d characters, want %d", n, coe.GitHubTitle.Max)
	}
	if got := issueTitle("OPS-1", "short"); got != "[OPS-1] short" {
		t.Fatalf("issueTitle = %q", got)
	}
}
