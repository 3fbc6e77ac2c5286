package coe

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ChangeKind says what a Change is.
type ChangeKind string

// Change kinds.
const (
	ChangeDeploy ChangeKind = "deploy" // a GitHub deployment
	ChangePR     ChangeKind = "pr"     // a pull request merged to the default branch
)

// Change is a deployment or a merged pull request of one of the incident
// service's repositories, shortly before the incident.
type Change struct {
	Kind ChangeKind // a deployment or a merged pull request
	Repo string     // owner/name
	// Title is the pull request's title or the deployment's description:
	// untrusted text.
	Title string
	URL   string // web page; rendered only when SafeURL accepts it
	// Author is the GitHub login of the deployer or the pull request's
	// author (untrusted; never rendered as a mention).
	Author string
	// Ref is the deployed ref (branch, tag) or the pull request's base branch.
	Ref string
	// SHA is the deployed commit or the pull request's merge commit.
	SHA string
	// Environment is a deployment's target environment.
	Environment string
	// Number is a pull request's number.
	Number int
	// At is when the deployment was created or the pull request merged (UTC).
	At time.Time
}

// ShortSHA is the first 7 characters of the commit, as GitHub shows it.
func (c Change) ShortSHA() string {
	if len(c.SHA) > 7 {
		return c.SHA[:7]
	}
	return c.SHA
}

// Summary is the change in one line of plain (unescaped) text.
func (c Change) Summary() string {
	var b strings.Builder
	switch c.Kind {
	case ChangeDeploy:
		b.WriteString("Deployment")
		if c.Ref != "" {
			b.WriteString(" of " + c.Ref)
		}
		if s := c.ShortSHA(); s != "" {
			b.WriteString(" (" + s + ")")
		}
		if c.Environment != "" {
			b.WriteString(" to " + c.Environment)
		}
		b.WriteString(" in " + c.Repo)
	default:
		b.WriteString("Pull request " + c.Repo + "#" + strconv.Itoa(c.Number) + " merged")
		if c.Ref != "" {
			b.WriteString(" into " + c.Ref)
		}
	}
	if t := strings.Join(strings.Fields(CleanText(c.Title)), " "); t != "" {
		b.WriteString(": " + Truncate(t, 200))
	}
	if c.Author != "" {
		b.WriteString(" (by " + c.Author + ")")
	}
	return b.String()
}

// RepoFailure is a repository whose changes could not be listed.
type RepoFailure struct {
	Repo   string // owner/name
	Reason string // short, secret-free
}

// ChangeList is what changed in the incident service's repositories in
// the window before the incident was triggered.
type ChangeList struct {
	// Repos are the repositories looked at; none means the service has
	// no repositories in the rules file and the COE says nothing.
	Repos        []string
	Since, Until time.Time // the window looked at, UTC
	// Changes are newest first.
	Changes []Change
	// Failed are the repositories that could not be listed.
	Failed []RepoFailure
	// Truncated are the repositories with more changes in the window than
	// coesync reads (the list shows the newest).
	Truncated []string
}

// Window is Until - Since.
func (l ChangeList) Window() time.Duration { return l.Until.Sub(l.Since) }

// SortChanges orders changes newest first (by repository, kind and number
// for equal times, so that the order is stable).
func SortChanges(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if !a.At.Equal(b.At) {
			return a.At.After(b.At)
		}
		if a.Repo != b.Repo {
			return a.Repo < b.Repo
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Number < b.Number
	})
}

// Timeline row kind and milestone of a change.
const (
	LogChange       LogKind   = "change"
	MilestoneChange Milestone = "Change"
)

// WithChanges returns d with its change list: the changes are listed under
// Related items (by the template) and marked in the timeline where they
// fall, as "Change" rows (channel "github") before the trigger.
func (d Draft) WithChanges(l ChangeList) Draft {
	d.Changes = l
	if len(l.Changes) == 0 {
		return d
	}
	tl := make(Timeline, 0, len(d.Timeline)+len(l.Changes))
	tl = append(tl, d.Timeline...)
	// Oldest first, like the timeline; a change at the same time as a log
	// entry goes before it (it is a candidate cause).
	for i := len(l.Changes) - 1; i >= 0; i-- {
		c := l.Changes[i]
		actor := c.Author
		if actor == "" {
			actor = "GitHub"
		}
		tl = append(tl, TimelineEntry{At: c.At.UTC(), Actor: actor, Event: c.Summary(), Channel: "github",
			Kind: LogChange, Milestone: MilestoneChange})
	}
	sort.SliceStable(tl, func(a, b int) bool {
		if tl[a].At.Equal(tl[b].At) {
			return tl[a].Kind == LogChange && tl[b].Kind != LogChange
		}
		return tl[a].At.Before(tl[b].At)
	})
	d.Timeline = tl
	return d
}

// Labels that let coesync find earlier COEs in Jira.
const (
	// RecurrenceLabel marks a COE that repeats an earlier one within the
	// recurrence window.
	RecurrenceLabel = "coe-recurrence"
)

// ServiceLabel is the Jira label of the COEs of a PagerDuty service,
// "pd-service-<id in lower case>", encoded like IncidentLabel.
func ServiceLabel(serviceID string) string { return encodeLabel("pd-service-", serviceID) }

// IncidentKeyLabel is the Jira label of the COEs of incidents with a given
// incident_key: "pd-key-" and the first 16 hex digits of its SHA-256 (an
// incident key is free text of any length, often holding spaces).
func IncidentKeyLabel(key string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	return "pd-key-" + hex.EncodeToString(sum[:8])
}

func encodeLabel(prefix, id string) string {
	return prefix + strings.TrimPrefix(IncidentLabel(id), "pd-incident-")
}
