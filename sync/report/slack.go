package report

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Slack's limits for a Block Kit message, and the summary's own caps.
const (
	// SlackMaxBlocks is the most blocks a message may have.
	SlackMaxBlocks = 50
	// SlackMaxText is the longest text of a section or context element.
	SlackMaxText = 3000
	// SlackTopOverdue caps the owners and the teams listed as overdue.
	SlackTopOverdue = 5

	slackMaxField   = 2000 // one of a section's fields
	slackMaxHeader  = 150  // a header's plain_text
	slackMaxButton  = 75   // a button's plain_text
	slackMaxURL     = 3000 // a button's url
	slackTopReasons = 3
	// slackMaxFallback keeps the notification text short; Slack cuts
	// longer ones.
	slackMaxFallback = 1000
)

type slackMessage struct {
	// Text is the fallback shown in notifications and by clients that
	// cannot show blocks.
	Text        string       `json:"text"`
	Blocks      []slackBlock `json:"blocks"`
	UnfurlLinks bool         `json:"unfurl_links"`
	UnfurlMedia bool         `json:"unfurl_media"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	BlockID  string      `json:"block_id,omitempty"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []any       `json:"elements,omitempty"`
}

// slackText is a text object. Verbatim mrkdwn is not pre-processed by
// Slack: no auto-linked URLs or channel names, no parsed mentions.
type slackText struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Emoji    bool   `json:"emoji,omitempty"`
	Verbatim bool   `json:"verbatim,omitempty"`
}

type slackButton struct {
	Type     string    `json:"type"`
	Text     slackText `json:"text"`
	URL      string    `json:"url"`
	ActionID string    `json:"action_id"`
}

func mrkdwn(s string) slackText    { return slackText{Type: "mrkdwn", Text: s, Verbatim: true} }
func plainText(s string) slackText { return slackText{Type: "plain_text", Text: s, Emoji: true} }

// Slack renders the report as a Slack Block Kit message for a channel (the
// body of an incoming webhook post): a header with the period, the sync's
// health with its main reasons, the key numbers, the owners and teams with
// the most overdue action items and a button to pageURL, with a plain-text
// fallback for notifications. pageURL is used only when it is an http(s)
// URL; an empty pageURL means the report's own ReportURL.
//
// Every text from PagerDuty, Jira and GitHub is escaped for Slack (see
// slackEscape): it cannot mention (@channel, <!here>, <@U…>), link or
// inject markup. Every text fits Slack's limits (3000 characters a
// section, 2000 a field, 150 a header) and the message has far fewer than
// 50 blocks.
func (r Report) Slack(pageURL string) ([]byte, error) {
	s := r.Summary
	h := r.Health
	label := slackFit(r.Period.Label, slackMaxHeader-len("COE sync report: "))
	p := Period{Since: r.in(r.Period.Since), Until: r.in(r.Period.Until), Label: r.Period.Label}

	var blocks []slackBlock
	header := plainText("COE sync report: " + label)
	blocks = append(blocks, slackBlock{Type: "header", BlockID: "header", Text: &header})

	ctx := periodText(p) + " · " + slackFit(r.Location().String(), 200) + " · generated " + fmtTime(r.in(r.GeneratedAt))
	if r.Partial {
		ctx += " · _the period has not ended: open and overdue items are counted at " + fmtTime(r.in(r.AsOf)) + "_"
	}
	blocks = append(blocks, slackBlock{Type: "context", BlockID: "period", Elements: []any{mrkdwn(ctx)}})

	verdict := r.slackVerdict()
	blocks = append(blocks, slackBlock{Type: "section", BlockID: "health", Text: &verdict})

	drafts := "*Drafts unreviewed after " + days(r.StaleDraftDays) + "*\n" + itoa(s.StaleDrafts)
	coes := "*COEs created*\n" + itoa(s.COEsCreated)
	if s.Recurrences > 0 {
		coes += " (" + plural(s.Recurrences, "recurrence", "recurrences") + ")"
	}
	blocks = append(blocks, slackBlock{Type: "section", BlockID: "numbers", Fields: []slackText{
		mrkdwn(coes),
		mrkdwn(drafts),
		mrkdwn("*Action items opened*\n" + itoa(s.ItemsOpened)),
		mrkdwn("*Action items closed*\n" + itoa(s.ItemsClosed)),
		mrkdwn("*Open at period end*\n" + itoa(s.ItemsOpen)),
		mrkdwn("*Overdue at period end*\n" + itoa(s.ItemsOverdue)),
		mrkdwn("*Completion rate*\n" + fmtRate(s.CompletionRate)),
		mrkdwn("*Median days to close*\n" + fmtDays(s.MedianDaysToClose)),
	}})

	overdue := slackBlock{Type: "section", BlockID: "overdue"}
	if s.ItemsOverdue == 0 {
		t := mrkdwn("*Overdue action items:* none.")
		overdue.Text = &t
	} else {
		t := mrkdwn("*Overdue action items: " + itoa(s.ItemsOverdue) + "*")
		overdue.Text = &t
		overdue.Fields = []slackText{
			mrkdwn(slackGroups("Owners", r.ActionItems.ByOwner)),
			mrkdwn(slackGroups("Teams", r.ActionItems.ByTeam)),
		}
	}
	blocks = append(blocks, overdue)

	link := r.slackLink(pageURL)
	if link != "" {
		blocks = append(blocks, slackBlock{Type: "actions", BlockID: "link", Elements: []any{slackButton{
			Type: "button", Text: plainText("Open the full report"), URL: link, ActionID: "open_report",
		}}})
	}

	fallback := "COE sync report " + label + ": sync health " + slackFit(h.Verdict, 40) +
		" · " + plural(s.COEsCreated, "COE", "COEs") + " created" +
		" · " + plural(s.StaleDrafts, "draft", "drafts") + " waiting for review" +
		" · action items " + itoa(s.ItemsOpened) + " opened, " + itoa(s.ItemsClosed) + " closed, " +
		itoa(s.ItemsOpen) + " open, " + itoa(s.ItemsOverdue) + " overdue" +
		" · completion " + fmtRate(s.CompletionRate)
	if link != "" && len(fallback)+len(link) < slackMaxFallback {
		fallback += " · <" + link + "|full report>"
	}

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(slackMessage{Text: fallback, Blocks: blocks}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// slackVerdict is the health section: the verdict and its main reasons.
func (r Report) slackVerdict() slackText {
	h := r.Health
	icon := verdictIcon[h.Verdict]
	if icon == "" {
		icon = "❔"
	}
	head := "*Sync health: " + icon + " " + slackFit(h.Verdict, 40) + "*"
	switch h.Verdict {
	case Healthy:
		head += " — the numbers can be trusted."
	case Unreliable:
		head += " — do not trust the numbers:"
	default:
		head += " — the numbers may be incomplete:"
	}
	lines := []string{head}
	shown := min(len(h.Reasons), slackTopReasons)
	for _, x := range h.Reasons[:shown] {
		lines = append(lines, "• "+verdictIcon[x.Severity]+" *"+slackFit(x.Summary, 450)+"*: "+slackFit(x.Detail, 900))
	}
	return mrkdwn(slackLines(lines, len(h.Reasons)-shown, SlackMaxText, "reason", "reasons"))
}

// slackGroups lists the groups with overdue items, most overdue first (the
// order of ItemSection), at most SlackTopOverdue.
func slackGroups(title string, groups []ItemGroup) string {
	lines := []string{"*" + title + "*"}
	n, more := 0, 0
	for _, g := range groups {
		if g.Overdue == 0 {
			continue
		}
		if n == SlackTopOverdue {
			more++
			continue
		}
		n++
		lines = append(lines, "• "+slackFit(g.Name, 240)+": "+itoa(g.Overdue)+" of "+itoa(g.Open)+" open")
	}
	return slackLines(lines, more, slackMaxField, "", "")
}

// slackLines joins lines, the first always, then as many as fit in limit
// bytes (so characters, however Slack counts them), with a note of how
// many were left out (dropped plus more), named one or many.
func slackLines(lines []string, more, limit int, one, many string) string {
	const reserve = 64 // for the note
	out := lines[0]
	for i, l := range lines[1:] {
		if len(out)+1+len(l) > limit-reserve {
			more += len(lines) - 1 - i
			break
		}
		out += "\n" + l
	}
	if more > 0 {
		word := many
		if more == 1 {
			word = one
		}
		out += "\n_… and " + strings.TrimSpace(itoa(more)+" more "+word) + " in the report._"
	}
	return out
}

// slackLink returns the URL of the button: pageURL, or the report's
// ReportURL when pageURL is empty; "" unless it is an http(s) URL short
// enough for Slack.
func (r Report) slackLink(pageURL string) string {
	if strings.TrimSpace(pageURL) == "" {
		pageURL = r.ReportURL
	}
	u := safeURL(pageURL)
	if len(u) > slackMaxURL {
		return ""
	}
	return u
}

// slackFit escapes s with slackEscape so that the result is at most
// maxBytes long (so at most maxBytes characters however counted), cutting
// the cleaned text, not the escapes.
func slackFit(s string, maxBytes int) string {
	for limit := maxBytes; limit > 1; limit = limit * 3 / 4 {
		if e := slackEscape(s, limit); len(e) <= maxBytes {
			return e
		}
	}
	return ""
}

// slackEscape makes untrusted text inert in Slack mrkdwn: one clean line
// (cleanField, at most maxRunes) with & < > as the entities Slack wants,
// so that no <!here>, <!channel>, <@U…>, <#C…> or <url|text> can form; a
// zero-width joiner after every '@' (and its full-width forms), so that
// bare @channel, @here, @everyone or @user is not parsed as a mention
// where Slack links names; and a ZWJ before the ':' of "scheme://" and
// the '.' of "www.", so that no URL is auto-linked.
func slackEscape(s string, maxRunes int) string {
	rs := []rune(cleanField(s, maxRunes))
	at := func(i int) rune {
		if i < 0 || i >= len(rs) {
			return 0
		}
		return rs[i]
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range rs {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '@', '＠', '﹫':
			b.WriteRune(r)
			b.WriteString(zwj)
		case ':':
			if isASCIILetter(at(i-1)) && at(i+1) == '/' {
				b.WriteString(zwj)
			}
			b.WriteRune(r)
		case '.':
			if i >= 3 && strings.EqualFold(string(rs[i-3:i]), "www") && (i == 3 || !isWordRune(rs[i-4])) {
				b.WriteString(zwj)
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
