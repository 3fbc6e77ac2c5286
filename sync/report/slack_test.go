package report

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coesync/coesync/sync/longtest"
)

func TestGoldenSlack(t *testing.T) {
	b, err := Build(seed(t)).Slack("https://coesync.example.com/report?week=2026-W47")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.slack.json", b)
}

// slackMsg is the decoded payload, loosely typed for the checks.
type slackMsg struct {
	Text   string           `json:"text"`
	Blocks []map[string]any `json:"blocks"`
}

func decodeSlack(t *testing.T, b []byte) slackMsg {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("payload is not JSON:\n%s", b)
	}
	var m slackMsg
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// slackTexts returns every text of the payload with its limit: the
// fallback, then each text object (header 150, field 2000, others 3000).
func slackTexts(m slackMsg) (texts []string, limits []int) {
	texts, limits = append(texts, m.Text), append(limits, 4000)
	var walk func(v any, limit int)
	walk = func(v any, limit int) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				switch {
				case k == "text":
					if s, ok := x.(string); ok {
						texts, limits = append(texts, s), append(limits, limit)
						continue
					}
					walk(x, limit)
				case k == "fields":
					walk(x, 2000)
				default:
					walk(x, limit)
				}
			}
		case []any:
			for _, x := range v {
				walk(x, limit)
			}
		}
	}
	for _, b := range m.Blocks {
		limit := SlackMaxText
		if b["type"] == "header" {
			limit = 150
		}
		walk(b, limit)
	}
	return texts, limits
}

// checkSlack asserts the limits and that no text can mention, link or
// break out of its escaping. link is the only URL allowed in the texts.
func checkSlack(t *testing.T, b []byte, link string) slackMsg {
	t.Helper()
	m := decodeSlack(t, b)
	if len(m.Blocks) == 0 || len(m.Blocks) > SlackMaxBlocks {
		t.Fatalf("%d blocks, want 1 to %d", len(m.Blocks), SlackMaxBlocks)
	}
	if m.Text == "" {
		t.Fatal("no fallback text")
	}
	texts, limits := slackTexts(m)
	for i, s := range texts {
		if s == "" {
			t.Fatalf("empty text (Slack refuses those)")
		}
		if n := utf8.RuneCountInString(s); n > limits[i] || len(s) > limits[i] {
			t.Fatalf("text of %d characters (%d bytes), over the limit %d: %.80q…", n, len(s), limits[i], s)
		}
		if link != "" {
			s = strings.ReplaceAll(s, "<"+link+"|full report>", "")
		}
		if strings.ContainsAny(s, "<>") {
			t.Fatalf("raw < or > in %q", s)
		}
		for i := strings.IndexByte(s, '&'); i >= 0; i = next(s, "&", i) {
			if !strings.HasPrefix(s[i:], "&amp;") && !strings.HasPrefix(s[i:], "&lt;") && !strings.HasPrefix(s[i:], "&gt;") {
				t.Fatalf("raw & (an entity would be decoded) in %q", s)
			}
		}
		low := strings.ToLower(s)
		for _, bad := range []string{"@channel", "@here", "@everyone", "<!", "<@", "<#"} {
			if strings.Contains(low, bad) {
				t.Fatalf("%q left in %q", bad, s)
			}
		}
		if schemeRE.MatchString(s) || wwwRE.MatchString(s) {
			t.Fatalf("a URL Slack could link in %q", s)
		}
		for _, r := range []string{"@", "＠"} {
			for i := strings.Index(s, r); i >= 0; i = next(s, r, i) {
				if !strings.HasPrefix(s[i+len(r):], zwj) {
					t.Fatalf("%s without a ZWJ after it in %q", r, s)
				}
			}
		}
	}
	return m
}

func TestSlackPayload(t *testing.T) {
	const page = "https://coesync.example.com/report?week=2026-W47"
	b, err := Build(seed(t)).Slack(page)
	if err != nil {
		t.Fatal(err)
	}
	m := checkSlack(t, b, page)
	ids := []string{}
	for _, b := range m.Blocks {
		ids = append(ids, b["block_id"].(string))
	}
	if got, want := strings.Join(ids, " "), "header period health numbers overdue link"; got != want {
		t.Errorf("blocks %q, want %q", got, want)
	}
	s := string(b)
	for _, want := range []string{
		`"text": "COE sync report: 2026-W47"`,
		"*Sync health: ⚠️ degraded*",
		"*3 webhooks rejected for a bad signature*",
		"*COEs created*\\n4 (1 recurrence)",
		"*Drafts unreviewed after 7 days*\\n2",
		"*Overdue at period end*\\n4",
		"*Completion rate*\\n33%",
		// Hostile owners, escaped.
		"• bob | @\u200dchannel: 1 of 1 open",
		"• &lt;script&gt;alert(1)&lt;/script&gt;: 1 of 1 open",
		`"url": "` + page + `"`,
		"<" + page + "|full report>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("payload lacks %q", want)
		}
	}
	if !strings.Contains(m.Text, "sync health degraded") || !strings.Contains(m.Text, "4 overdue") {
		t.Errorf("fallback %q", m.Text)
	}
}

func TestSlackLink(t *testing.T) {
	r := Build(seed(t))
	for _, tc := range []struct{ page, want string }{
		{"https://x.example/r?week=2026-W47", "https://x.example/r?week=2026-W47"},
		{"", r.ReportURL}, // the report's own URL
		{"javascript:alert(1)", ""},
		{"https://x.example/a|b>c", "https://x.example/a%7Cb%3Ec"},
		{"//x.example/r", ""},
	} {
		b, err := r.Slack(tc.page)
		if err != nil {
			t.Fatal(err)
		}
		m := checkSlack(t, b, tc.want)
		last := m.Blocks[len(m.Blocks)-1]
		if tc.want == "" {
			if last["type"] == "actions" || strings.Contains(m.Text, "full report") {
				t.Errorf("page %q: a link to a non-http(s) URL", tc.page)
			}
			continue
		}
		els := last["elements"].([]any)
		if got := els[0].(map[string]any)["url"]; got != tc.want {
			t.Errorf("page %q: button to %v, want %q", tc.page, got, tc.want)
		}
	}
}

func TestSlackEscape(t *testing.T) {
	for in, want := range map[string]string{
		"@channel":                     "@\u200dchannel",
		"ping @here and @Everyone":     "ping @\u200dhere and @\u200dEveryone",
		"<!here>":                      "&lt;!here&gt;",
		"<!channel|x>":                 "&lt;!channel|x&gt;",
		"<@U123>":                      "&lt;@\u200dU123&gt;",
		"<#C123|general>":              "&lt;#C123|general&gt;",
		"<https://evil.example|click>": "&lt;https\u200d://evil.example|click&gt;",
		"a & b &amp; c":                "a &amp; b &amp;amp; c",
		"&lt;!here&gt;":                "&amp;lt;!here&amp;gt;",
		"see www.evil.example":         "see www\u200d.evil.example",
		"＠channel":                     "＠\u200dchannel",
		"line\nbreak\t\u202eend":       "line break end",
		"*bold* _it_":                  "*bold* _it_",
	} {
		if got := slackEscape(in, 200); got != want {
			t.Errorf("slackEscape(%q) = %q, want %q", in, got, want)
		}
	}
	// slackFit cuts the text, never an entity.
	got := slackFit(strings.Repeat("&", 100), 52)
	if len(got) > 52 || strings.Trim(strings.ReplaceAll(got, "&amp;", ""), "…") != "" {
		t.Errorf("slackFit cut an entity: %q", got)
	}
}

// hostileSeed is the seed with every owner, team and name an attempt at a
// mention, and long reasons.
func hostileSeed(t *testing.T) Input {
	in := seed(t)
	evil := []string{"<!here>", "<@U123>", "@channel", "@everyone", "<!channel>", "<#C1|x>",
		"<https://evil.example|click>", "&lt;!here&gt;", "@here", "<!subteam^S1>", "<!date^1|x>"}
	for i := range in.Items {
		in.Items[i].Owner = evil[i%len(evil)] + " " + in.Items[i].Owner
		in.Items[i].Team = evil[(i+3)%len(evil)]
		in.Items[i].Due = day(t, "2026-11-01") // all overdue if open
	}
	// Many late systems: a long reason detail.
	for i := range 40 {
		in.Health.LastReconcile[strings.Repeat("<!here>&", 12)+itoa(i)] = in.Now.Add(-48 * time.Hour)
	}
	in.Period = LastFullWeek(in.Now, in.Location)
	in.Period.Label = "<!channel> @here"
	return in
}

func TestSlackHostile(t *testing.T) {
	in := hostileSeed(t)
	b, err := Build(in).Slack("")
	if err != nil {
		t.Fatal(err)
	}
	m := checkSlack(t, b, Build(in).ReportURL)
	s := string(b)
	for _, want := range []string{"&lt;!here&gt;", "&lt;@\u200dU123&gt;", "@\u200dchannel", "&amp;lt;!here&amp;gt;",
		"\"text\": \"COE sync report: &lt;!channel&gt; @\u200dhere\""} {
		if !strings.Contains(s, want) {
			t.Errorf("payload lacks the escaped %q", want)
		}
	}
	// The owners and teams are capped at five each.
	for _, b := range m.Blocks {
		if b["block_id"] != "overdue" {
			continue
		}
		for _, f := range b["fields"].([]any) {
			text := f.(map[string]any)["text"].(string)
			if n := strings.Count(text, "\n• "); n > SlackTopOverdue {
				t.Errorf("%d groups listed, want at most %d: %q", n, SlackTopOverdue, text)
			}
			if !strings.Contains(text, "more in the report") {
				t.Errorf("the groups left out are not mentioned: %q", text)
			}
		}
	}
}

// Property: any hostile input gives a valid payload within Slack's limits
// with nothing that mentions or links.
func TestSlackEscapeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	long := func() string {
		var b strings.Builder
		for b.Len() < 600 {
			b.WriteString(randomHostile(r))
		}
		return b.String()
	}
	for i := range longtest.Iterations(200, 20) {
		in := seed(t)
		for j := range in.COEs {
			in.COEs[j].Title = randomHostile(r)
			in.COEs[j].Team = randomHostile(r)
		}
		for j := range in.Items {
			in.Items[j].Owner = long()
			in.Items[j].Team = long()
			in.Items[j].Problem = randomHostile(r)
			in.Items[j].Due = day(t, "2026-11-01")
		}
		in.Health.WebhooksRejected = map[string]int{randomHostile(r): 2, "signature": 5}
		for range 30 {
			in.Health.LastReconcile[long()] = in.Now.Add(-time.Duration(r.IntN(100)) * time.Hour)
		}
		if i%2 == 0 {
			in.Period = LastFullWeek(in.Now, in.Location)
			in.Period.Label = long()
		}
		b, err := Build(in).Slack("https://coesync.example.com/report")
		if err != nil {
			t.Fatal(err)
		}
		checkSlack(t, b, "https://coesync.example.com/report")
	}
}
