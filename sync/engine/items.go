package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/metrics"
	"github.com/coesync/coesync/sync/store"
)

// ActionItemLabel marks action items in Jira and their mirrors in GitHub.
const ActionItemLabel = "coe-action-item"

// ItemSyncStore is the part of the store the action-item sync needs.
type ItemSyncStore interface {
	store.ItemStore
	ListCOEs(ctx context.Context, since, until time.Time) ([]store.COE, error)
	SetCOECategory(ctx context.Context, ticketKey, category string) error
	Enqueue(ctx context.Context, jobs ...store.Job) error
}

// JiraItems is what the syncer needs from Jira.
type JiraItems interface {
	ItemTracker
	CommentFinder
}

// Transitions names the Jira transitions the syncer may use, in order of
// preference.
type Transitions struct {
	Done    []string
	Reopen  []string
	WontDo  []string
	COEDone string
}

// ItemSyncer keeps action items (Jira) and their mirrors (GitHub) in step.
//
// For each pair the store keeps the last synced value of every field; a
// side has changed a field when it differs from that value. Only changes
// are written to the other side, and the store then records the new value,
// so the event coesync's own write triggers finds nothing to do. When both
// sides changed a field, the later update wins.
type ItemSyncer struct {
	Jira        JiraItems
	GitHub      IssueTracker
	Store       ItemSyncStore
	Transitions Transitions
	// Users maps a Jira account id or email to a GitHub login ("" if unmapped).
	Users       func(accountID, email string) string
	DefaultRepo string
	SubtaskType string
	LinkType    string
	Now         func() time.Time
	Log         *slog.Logger
	Metrics     *metrics.Metrics
	// SLA gives items without a due date one (sla.go); nil turns it off.
	SLA *SLA
	// Incidents reads the incident's priority for the SLA; may be nil.
	Incidents IncidentSource
	// CreateSettle is how long after a create that may have landed (the
	// call timed out, the connection dropped) an empty answer is trusted:
	// a server may apply a request after the client gave up on it. Until
	// then a retry waits instead of creating a second issue or sub-task.
	// Twice the HTTP timeout is safe; zero trusts the answer at once.
	CreateSettle time.Duration
	// DecodeJira and DecodeGitHub decode stored webhook bodies (GitHub's
	// by event type, "issues"); with them a sync set off by a webhook of
	// coesync's own write reads neither side (echo.go). Nil turns that off.
	DecodeJira   func(body []byte) (coe.JiraEvent, error)
	DecodeGitHub func(event string, body []byte) (coe.GitHubIssueEvent, error)
	// JiraURL is the browse URL of an issue, as GetItem's items carry it.
	JiraURL func(key string) string
	// WebhookWait is how long the mirror of a sub-task the seed just
	// created waits for Jira's jira:issue_created webhook, whose issue
	// (with the defaults Jira filled in: priority, assignee, status) is
	// what a read would return. Zero (no Jira webhooks) reads at once.
	WebhookWait time.Duration
}

// settling is landing (intent.go) with the syncer's settle time.
func (s *ItemSyncer) settling(intent time.Time, what string) error {
	return landing(intent, s.CreateSettle, s.now(), what+": an earlier create may still land")
}

func (s *ItemSyncer) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Marker is the hidden line in a GitHub issue body that names its Jira
// item: the witness after a crash and how webhooks find the item.
func Marker(jiraKey string) string { return "<!-- coesync:action-item:" + jiraKey + " -->" }

var markerRe = regexp.MustCompile(`<!-- coesync:action-item:([A-Z][A-Z0-9_]{0,30}-[0-9]{1,12}) -->`)

// KeyFromBody returns the Jira key named by a GitHub issue body's marker.
func KeyFromBody(body string) (string, bool) {
	m := markerRe.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// issueTitle is the GitHub title of an item: "[COE-KEY] summary", fitted
// to GitHub's limit (a Jira summary may have 255 characters on its own).
func issueTitle(coeKey, summary string) string {
	return coe.GitHubTitle.FitLine("[" + coeKey + "] " + summary)
}

// summaryFromTitle undoes issueTitle; a title someone rewrote without the
// prefix is taken whole, fitted to Jira's summary limit (GitHub allows one
// character more).
func summaryFromTitle(coeKey, title string) string {
	return coe.JiraSummary.FitLine(strings.TrimSpace(strings.TrimPrefix(title, "["+coeKey+"]")))
}

func priorityLabel(p string) string {
	if p == "" {
		return ""
	}
	return "priority:" + strings.ToLower(strings.ReplaceAll(p, " ", "-"))
}

func (s *ItemSyncer) repoFor(c store.COE, ji coe.JiraItem) string {
	if c.Repo != "" {
		return c.Repo
	}
	for _, l := range ji.Labels {
		if r, ok := strings.CutPrefix(l, "repo:"); ok && strings.Count(r, "/") == 1 {
			return r
		}
	}
	return s.DefaultRepo
}

// body renders the GitHub issue body. Jira text is untrusted: escaped.
func (s *ItemSyncer) body(c store.COE, ji coe.JiraItem, assignee string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Corrective action from the COE [%s](%s) for PagerDuty incident [#%d](%s).\n\n",
		c.TicketKey, safeURL(c.TicketURL), c.IncidentNumber, safeURL(c.IncidentURL))
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Jira item | [%s](%s) |\n", ji.Key, safeURL(ji.URL))
	owner := "unassigned"
	if ji.AssigneeName != "" {
		owner = coe.EscapeMarkdown(ji.AssigneeName)
		if assignee == "" {
			owner += " (no GitHub login mapped; not assigned here)"
		}
	}
	fmt.Fprintf(&b, "| Owner | %s |\n", strings.ReplaceAll(owner, "|", "\\|"))
	due := "not set"
	if !ji.Due.IsZero() {
		due = ji.Due.Format("2006-01-02")
	}
	fmt.Fprintf(&b, "| Due | %s |\n", due)
	prio := "not set"
	if ji.Priority != "" {
		prio = coe.EscapeMarkdown(ji.Priority)
	}
	fmt.Fprintf(&b, "| Priority | %s |\n\n", strings.ReplaceAll(prio, "|", "\\|"))
	b.WriteString("Kept in step with Jira by coesync: closing or reopening this issue, or editing its title, updates the Jira item.\n\n")
	// The marker last and whole: KeyFromBody finds the item by it.
	return coe.GitHubBody.Fit(b.String(), Marker(ji.Key)+"\n")
}

func safeURL(u string) string {
	if v, ok := coe.SafeURL(u); ok {
		return v
	}
	return "#"
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// coeOf finds the COE an item belongs to: its parent, else a COE it is
// linked to with the configured link type when it carries the label.
func (s *ItemSyncer) coeOf(ctx context.Context, it store.ActionItem, ji coe.JiraItem) (store.COE, bool, error) {
	keys := []string{it.COEKey, ji.Parent}
	if ji.HasLabel(ActionItemLabel) {
		for _, l := range ji.Links {
			if s.LinkType == "" || strings.EqualFold(l.Type, s.LinkType) {
				keys = append(keys, l.Key)
			}
		}
	}
	for _, k := range keys {
		if k == "" {
			continue
		}
		c, err := s.Store.COEByKey(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		return c, err == nil, err
	}
	return store.COE{}, false, nil
}

// Sync brings one action item and its GitHub issue in step. source says
// what asked for it ("jira", "github", "reconcile", "seed").
func (s *ItemSyncer) Sync(ctx context.Context, key, source string) error {
	log := s.Log.With("item", key, "source", source)
	it, err := s.Store.ActionItem(ctx, key)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if known && (it.State == store.MirrorDeleted || it.State == store.MirrorGone) {
		return nil // reported once; never recreated
	}
	if known && it.Number != 0 {
		switch source {
		case "seed":
			// The seed asks for the mirror only; changes since come as
			// webhooks or the reconcile pass.
			return nil
		case "jira", "github":
			check, synced := s.jiraEcho, &it.JiraUpdated
			if source == "github" {
				check, synced = s.githubEcho, &it.GitHubUpdated
			}
			quiet, updated, err := check(ctx, it)
			if err != nil {
				return fmt.Errorf("sync %s: %w", key, err)
			}
			if quiet {
				log.Debug("webhook reports nothing to sync (coesync's own write, or synced already)")
				if !updated.After(*synced) {
					return nil
				}
				// The state it reports is the synced one: the reconcile
				// pass need not look at this item again for it.
				*synced = updated
				return s.Store.PutActionItem(ctx, it)
			}
		}
	}
	var ji coe.JiraItem
	delivered := false
	err = nil
	if it.Number == 0 {
		// Not mirrored yet: the issue the webhooks reported is what a
		// read would return.
		if ji, delivered, err = s.deliveredItem(ctx, key); err != nil {
			return fmt.Errorf("sync %s: %w", key, err)
		}
		if !delivered && known && source == "seed" {
			if err := s.awaitCreated(it); err != nil {
				return err
			}
		}
	}
	if !delivered {
		ji, err = s.Jira.GetItem(ctx, key)
	}
	if StatusOf(err) == 404 {
		if known {
			return s.jiraGone(ctx, it, log)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", key, err)
	}
	c, ok, err := s.coeOf(ctx, it, ji)
	if err != nil {
		return err
	}
	if !ok {
		return nil // not an action item of a COE coesync made
	}
	if err := s.applySLA(ctx, c, &ji, log); err != nil {
		return err
	}
	if !known {
		it = store.ActionItem{JiraKey: key, JiraID: ji.ID, COEKey: c.TicketKey, IncidentID: c.IncidentID,
			Repo: s.repoFor(c, ji), State: store.MirrorIntent, OpenedAt: ji.Created}
	}
	if it.Repo == "" {
		const p = "no GitHub repository routed (rule, repo: label or COESYNC_GITHUB_REPO)"
		if it.Problem != p {
			s.countProblem("no_repo")
		}
		it.Problem = p
		log.Warn("action item not mirrored", "reason", it.Problem)
		return s.Store.PutActionItem(ctx, it)
	}
	if it.Number == 0 {
		return s.mirror(ctx, it, c, ji, log)
	}
	return s.sync(ctx, it, c, ji, source, log)
}

// awaitCreated returns a WaitError while the jira:issue_created webhook of
// an item the seed created may still come (see WebhookWait).
func (s *ItemSyncer) awaitCreated(it store.ActionItem) error {
	if s.WebhookWait <= 0 || it.OpenedAt.IsZero() {
		return nil
	}
	left := it.OpenedAt.Add(s.WebhookWait).Sub(s.now())
	if left <= 0 {
		return nil
	}
	return &WaitError{Wait: min(left, 200*time.Millisecond), Reason: "waiting for Jira's webhook of new " + it.JiraKey}
}

// mirror creates the item's GitHub issue exactly once.
func (s *ItemSyncer) mirror(ctx context.Context, it store.ActionItem, c store.COE, ji coe.JiraItem, log *slog.Logger) error {
	assignee := s.users(ji)
	body := s.body(c, ji, assignee)
	var gi coe.GitHubIssue
	found := false
	if !it.IntentAt.IsZero() {
		// An earlier run may have created it: GitHub's list is the witness.
		var err error
		gi, found, err = s.GitHub.FindIssueByMarker(ctx, it.Repo, ActionItemLabel, Marker(it.JiraKey))
		if err != nil {
			return fmt.Errorf("look for mirror of %s: %w", it.JiraKey, err)
		}
		if !found {
			if err := s.settling(it.IntentAt, "mirror of "+it.JiraKey); err != nil {
				return err
			}
		}
	}
	if !found {
		cctx, err := intending(ctx, func(ctx context.Context) error {
			it.IntentAt = s.now()
			return s.Store.PutActionItem(ctx, it)
		})
		if err != nil {
			return err
		}
		spec := coe.GitHubIssueSpec{Title: issueTitle(c.TicketKey, ji.Summary), Body: body,
			Labels: labels(ji.Priority)}
		if assignee != "" {
			spec.Assignees = []string{assignee}
		}
		gi, err = s.GitHub.CreateIssue(cctx, it.Repo, spec)
		if err != nil {
			if refused(err) {
				// Nothing was created: the retry need not wait for it.
				it.IntentAt = time.Time{}
				s.Store.PutActionItem(context.WithoutCancel(ctx), it)
			}
			return fmt.Errorf("mirror %s to %s: %w", it.JiraKey, it.Repo, err)
		}
		log.Info("action item mirrored", "issue", gi.Ref())
	}
	it.Repo, it.Number, it.IssueURL, it.State = gi.Repo, gi.Number, gi.URL, store.MirrorLinked
	it.Title, it.Closed, it.Assignee, it.Owner, it.Due, it.Priority = ji.Summary, ji.Done, assignee, ji.AssigneeName, ji.Due, ji.Priority
	it.BodyHash, it.JiraUpdated, it.GitHubUpdated = hash(body), ji.Updated, gi.UpdatedAt
	if ji.Done {
		it.ClosedAt = ji.Updated
	}
	if err := s.Store.PutActionItem(ctx, it); err != nil {
		return err
	}
	if ji.Done && gi.State != coe.GitHubStateClosed {
		// The item was done before it was mirrored.
		closed, reason := coe.GitHubStateClosed, coe.GitHubReasonCompleted
		if gi, err := s.GitHub.UpdateIssue(ctx, it.Repo, it.Number, coe.GitHubIssuePatch{State: &closed, StateReason: &reason}); err == nil {
			it.GitHubUpdated = gi.UpdatedAt
			s.Store.PutActionItem(ctx, it)
		}
	}
	link := coe.RemoteLink{GlobalID: "coesync:github-issue:" + it.JiraKey, URL: gi.URL,
		Title: gi.Ref(), Summary: "GitHub issue mirroring this action item"}
	if err := s.Jira.EnsureRemoteLink(ctx, it.JiraKey, link); err != nil {
		return fmt.Errorf("link %s to %s: %w", it.JiraKey, gi.Ref(), err)
	}
	return s.Store.Enqueue(ctx, RollupJob(c.TicketKey))
}

func labels(priority string) []string {
	ls := []string{ActionItemLabel}
	if p := priorityLabel(priority); p != "" {
		ls = append(ls, p)
	}
	return ls
}

func (s *ItemSyncer) users(ji coe.JiraItem) string {
	if s.Users == nil || (ji.AssigneeID == "" && ji.AssigneeEmail == "") {
		return ""
	}
	return s.Users(ji.AssigneeID, ji.AssigneeEmail)
}

// sync compares both sides with the last synced values and writes changes.
func (s *ItemSyncer) sync(ctx context.Context, it store.ActionItem, c store.COE, ji coe.JiraItem, source string, log *slog.Logger) error {
	gi, err := s.GitHub.GetIssue(ctx, it.Repo, it.Number)
	if st := StatusOf(err); st == 404 || st == 410 {
		it.State, it.Problem = store.MirrorDeleted, fmt.Sprintf("GitHub issue %s was deleted", coe.GitHubRef(it.Repo, it.Number))
		s.countProblem("mirror_deleted")
		log.Error("mirror deleted; not recreated", "issue", coe.GitHubRef(it.Repo, it.Number))
		s.count(ctx, store.CounterDriftRepaired, 0)
		if err := s.Store.PutActionItem(ctx, it); err != nil {
			return err
		}
		return s.Store.Enqueue(ctx, RollupJob(it.COEKey))
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", it.JiraKey, err)
	}
	wrote := false
	if gi.Repo != it.Repo || gi.Number != it.Number {
		log.Info("mirror transferred; following it", "from", coe.GitHubRef(it.Repo, it.Number), "to", gi.Ref())
		it.Repo, it.Number, it.IssueURL = gi.Repo, gi.Number, gi.URL
		wrote = true
	}
	jiraNewer := ji.Updated.After(gi.UpdatedAt)
	var patch coe.GitHubIssuePatch
	problem := ""

	// Title: both ways.
	title := it.Title
	ghSummary := summaryFromTitle(it.COEKey, gi.Title)
	// A title cut to GitHub's limit is not an edit on GitHub.
	jc, gc := ji.Summary != it.Title, ghSummary != it.Title && gi.Title != issueTitle(it.COEKey, it.Title)
	switch {
	case jc && (!gc || jiraNewer):
		title = ji.Summary
	case gc:
		title = ghSummary
	}
	if title != ji.Summary {
		if err := s.Jira.EditItem(ctx, ji.Key, &title, nil); err != nil {
			return fmt.Errorf("sync %s title from GitHub: %w", it.JiraKey, err)
		}
		wrote = true
	}
	if want := issueTitle(it.COEKey, title); gi.Title != want {
		patch.Title = &want
	}
	it.Title = title

	// Open/closed: both ways.
	ghClosed := gi.State == coe.GitHubStateClosed
	jc, gc = ji.Done != it.Closed, ghClosed != it.Closed
	closed := it.Closed
	switch {
	case jc && (!gc || jiraNewer):
		closed = ji.Done
	case gc:
		closed = ghClosed
	}
	if closed != ji.Done {
		if p, err := s.transitionJira(ctx, ji.Key, closed, gi.StateReason); err != nil {
			return err
		} else if p != "" {
			problem = p
			closed = ji.Done // not synced: the operator must fix the workflow
		} else {
			wrote = true
		}
	}
	if closed != ghClosed && problem == "" {
		state, reason := coe.GitHubStateOpen, coe.GitHubReasonReopened
		if closed {
			state, reason = coe.GitHubStateClosed, coe.GitHubReasonCompleted
		}
		patch.State, patch.StateReason = &state, &reason
	}
	if closed != it.Closed {
		if closed {
			it.ClosedAt = s.now()
		} else {
			it.ClosedAt = time.Time{}
		}
	}
	it.Closed = closed

	// Assignee, due date, priority, owner: Jira to GitHub.
	assignee := s.users(ji)
	if assignee != it.Assignee || (assignee != "" && !contains(gi.Assignees, assignee)) {
		as := []string{}
		if assignee != "" {
			as = []string{assignee}
		}
		patch.Assignees = &as
	}
	body := s.body(c, ji, assignee)
	if h := hash(body); h != it.BodyHash {
		patch.Body = &body
		it.BodyHash = h
	}
	if ji.Priority != it.Priority {
		ls := labels(ji.Priority)
		for _, l := range gi.Labels {
			if l != ActionItemLabel && !strings.HasPrefix(l, "priority:") {
				ls = append(ls, l)
			}
		}
		patch.Labels = &ls
	}
	it.Assignee, it.Owner, it.Due, it.Priority = assignee, ji.AssigneeName, ji.Due, ji.Priority

	if !patch.IsZero() {
		updated, err := s.GitHub.UpdateIssue(ctx, it.Repo, it.Number, patch)
		if err != nil {
			return fmt.Errorf("sync %s to %s: %w", it.JiraKey, gi.Ref(), err)
		}
		gi = updated
		wrote = true
	}
	it.JiraUpdated, it.GitHubUpdated = ji.Updated, gi.UpdatedAt
	it.Problem = problem
	if err := s.Store.PutActionItem(ctx, it); err != nil {
		return err
	}
	if wrote {
		log.Info("action item synced", "issue", gi.Ref(), "closed", it.Closed)
		if source == "reconcile" {
			s.count(ctx, store.CounterDriftRepaired, 1)
		}
	}
	return s.Store.Enqueue(ctx, RollupJob(it.COEKey))
}

// transitionJira moves the Jira item to done (or won't do) or back open.
// A workflow without a matching transition is returned as a problem for
// the operator, not an error to retry.
// countProblem counts a sync problem an operator must fix on /metrics.
func (s *ItemSyncer) countProblem(kind string) {
	if s.Metrics != nil {
		s.Metrics.SyncProblems.WithLabelValues(kind).Inc()
	}
}

func (s *ItemSyncer) transitionJira(ctx context.Context, key string, done bool, reason string) (problem string, err error) {
	names := s.Transitions.Reopen
	comment := ""
	if done {
		names = s.Transitions.Done
		if coe.ClosedUndone(reason) {
			if len(s.Transitions.WontDo) > 0 {
				names = append(append([]string{}, s.Transitions.WontDo...), names...)
			}
			as := "*not planned*"
			if reason == coe.GitHubReasonDuplicate {
				as = "a *duplicate* (not planned here)"
			}
			comment = "The GitHub issue mirroring this action item was closed as " + as + "."
		}
	}
	_, err = s.Jira.Transition(ctx, key, names)
	if errors.Is(err, ErrNoTransition) {
		s.count(ctx, store.CounterMissingTransition, 1)
		s.countProblem("missing_transition")
		p := fmt.Sprintf("no Jira transition named %s on %s", strings.Join(names, ", "), key)
		s.Log.Error("cannot sync state to Jira", "item", key, "problem", p, "err", err)
		return p, nil
	}
	if err != nil {
		return "", fmt.Errorf("transition %s: %w", key, err)
	}
	if comment != "" {
		if _, err := s.Jira.AddComment(ctx, key, comment); err != nil {
			return "", fmt.Errorf("comment on %s: %w", key, err)
		}
	}
	return "", nil
}

func (s *ItemSyncer) jiraGone(ctx context.Context, it store.ActionItem, log *slog.Logger) error {
	it.State, it.Problem = store.MirrorGone, "Jira item deleted"
	if it.Number != 0 {
		closed, reason := coe.GitHubStateClosed, coe.GitHubReasonNotPlanned
		if _, err := s.GitHub.UpdateIssue(ctx, it.Repo, it.Number, coe.GitHubIssuePatch{State: &closed, StateReason: &reason}); err != nil && StatusOf(err) != 410 && StatusOf(err) != 404 {
			return fmt.Errorf("close mirror of deleted %s: %w", it.JiraKey, err)
		}
	}
	log.Warn("Jira item deleted; mirror closed as not planned")
	if err := s.Store.PutActionItem(ctx, it); err != nil {
		return err
	}
	return s.Store.Enqueue(ctx, RollupJob(it.COEKey))
}

// leaseTTL outlives any job run (River's job timeout is 2 minutes), so a
// lease is only ever taken over from a process that died holding it.
const leaseTTL = 3 * time.Minute

// exclusive runs fn holding the lease name; when another job holds it, the
// job waits a moment and runs again.
func (s *ItemSyncer) exclusive(ctx context.Context, name string, fn func() error) error {
	owner := newLeaseOwner()
	ok, err := s.Store.TryLock(ctx, name, owner, time.Now().Add(leaseTTL))
	if err != nil {
		return err
	}
	if !ok {
		return &WaitError{Wait: 100 * time.Millisecond, Reason: name + " is being synced by another job"}
	}
	defer func() {
		if err := s.Store.Unlock(context.WithoutCancel(ctx), name, owner); err != nil {
			s.Log.Warn("could not release lease", "lease", name, "err", err)
		}
	}()
	return fn()
}

func (s *ItemSyncer) count(ctx context.Context, name string, n int) {
	if n == 0 {
		return
	}
	if err := s.Store.Count(ctx, name, s.now(), n); err != nil {
		s.Log.Warn("could not count", "counter", name, "err", err)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if strings.EqualFold(v, x) {
			return true
		}
	}
	return false
}

// Seed creates the proposed action items of a new COE as Jira sub-tasks,
// once: the COE's sub-task list (read from the issue, so consistent right
// after a create) is the witness of what an earlier run made.
func (s *ItemSyncer) Seed(ctx context.Context, a SeedItemsArgs) error {
	c, err := s.Store.COEByKey(ctx, a.COEKey)
	if err != nil {
		return fmt.Errorf("seed action items of %s: %w", a.COEKey, err)
	}
	// The COE's sub-tasks are the witness of what an earlier run created;
	// with no earlier attempt recorded there is nothing to look for (the
	// intent is written before the first create), which saves the read.
	intentKey := "seed:intent:" + a.COEKey
	earlier, err := loadIntent(ctx, s.Store, intentKey)
	if err != nil {
		return fmt.Errorf("seed action items of %s: %w", a.COEKey, err)
	}
	var subs []coe.JiraItem
	if !earlier.IsZero() {
		if subs, err = s.Jira.Subtasks(ctx, a.COEKey); err != nil {
			return fmt.Errorf("seed action items of %s: %w", a.COEKey, err)
		}
	}
	have := map[string]bool{}
	var keys []string
	for _, st := range subs {
		have[normalize(st.Summary)] = true
		keys = append(keys, st.Key)
	}
	var specs []coe.TicketSpec
	for _, p := range a.Items {
		summary := coe.Truncate(coe.CleanText(p.Summary), 250)
		if summary == "" || have[normalize(summary)] {
			continue
		}
		have[normalize(summary)] = true // one sub-task for proposals that differ in case or spacing only
		desc := fmt.Sprintf("Proposed by %s in a PagerDuty note on incident #%d. Confirm it, set one owner, a priority and a due date; coesync mirrors it to GitHub and keeps both in step.",
			coe.EscapeWiki(p.Owner), c.IncidentNumber)
		specs = append(specs, coe.TicketSpec{Project: c.Project, IssueType: s.SubtaskType,
			Summary: summary, Description: desc, Labels: []string{ActionItemLabel}})
	}
	var createErr error
	if len(specs) > 0 {
		// A sub-task an earlier run asked for may still land: wait for
		// it rather than ask twice; then record this run's attempt
		// before the create.
		if err := s.settling(earlier, "action items of "+a.COEKey); err != nil {
			return err
		}
		cctx, err := intending(ctx, func(ctx context.Context) error { return saveIntent(ctx, s.Store, intentKey, s.now()) })
		if err != nil {
			return fmt.Errorf("seed action items of %s: %w", a.COEKey, err)
		}
		// One bulk create for all of them. Those created are recorded
		// and mirrored even when others failed; the job's retry then
		// finds them among the COE's sub-tasks and creates the rest.
		refs, err := s.Jira.CreateSubtasks(cctx, a.COEKey, specs)
		created := 0
		for i, ref := range refs {
			if i >= len(specs) || ref.Key == "" {
				continue
			}
			created++
			keys = append(keys, ref.Key)
			if perr := s.recordSeeded(ctx, c, ref, specs[i]); perr != nil {
				err = errors.Join(err, perr)
			}
		}
		if err != nil {
			if refused(err) && created == 0 && len(keys) == 0 {
				// No sub-task exists, by any run: the retry need neither
				// wait nor look for one.
				saveIntent(context.WithoutCancel(ctx), s.Store, intentKey, time.Time{})
			}
			createErr = fmt.Errorf("seed action items of %s: %w", a.COEKey, err)
		}
	}
	if len(keys) > 0 {
		// The roll-up's first post waits for these (see expectedMissing):
		// one whose record the seed left to a sync holding its lease is
		// not in the store yet.
		if err := s.Store.SetState(ctx, "rollup:expect:"+a.COEKey, strings.Join(keys, ",")); err != nil {
			return errors.Join(createErr, err)
		}
	}
	jobs := make([]store.Job, len(keys))
	for i, k := range keys {
		jobs[i] = SyncItemJob(k, "seed")
	}
	if err := s.Store.Enqueue(ctx, jobs...); err != nil {
		return errors.Join(createErr, err)
	}
	return createErr
}

// recordSeeded records a sub-task the seed just created, before its
// mirror: the roll-up then knows the item is coming (it waits for the
// mirror rather than post a table about to change), and the mirror knows
// when the sub-task was made (see WebhookWait). Only what the create
// settled is recorded; the rest comes with the mirror.
func (s *ItemSyncer) recordSeeded(ctx context.Context, c store.COE, ref coe.TicketRef, spec coe.TicketSpec) error {
	// Under the item's lease: a sync set off by the sub-task's webhook
	// may be mirroring it, and this record must not replace its own.
	name, owner := "item:"+ref.Key, newLeaseOwner()
	ok, err := s.Store.TryLock(ctx, name, owner, time.Now().Add(leaseTTL))
	if err != nil || !ok {
		return err // held: that sync records the item
	}
	defer func() {
		if err := s.Store.Unlock(context.WithoutCancel(ctx), name, owner); err != nil {
			s.Log.Warn("could not release lease", "lease", name, "err", err)
		}
	}()
	if _, err := s.Store.ActionItem(ctx, ref.Key); err == nil {
		return nil // a sync got there first
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return s.Store.PutActionItem(ctx, store.ActionItem{JiraKey: ref.Key, JiraID: ref.ID, COEKey: c.TicketKey,
		IncidentID: c.IncidentID, Repo: s.repoFor(c, coe.JiraItem{Labels: spec.Labels}), State: store.MirrorIntent,
		Title: spec.Summary, OpenedAt: s.now()})
}

func normalize(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

const (
	rollupMarker     = "coesync:rollup"
	completionMarker = "coesync:all-actions-done"
)

// Rollup keeps the action-item table on the COE current, in one comment
// edited in place, and says once when every item is closed.
func (s *ItemSyncer) Rollup(ctx context.Context, coeKey string) error {
	c, err := s.Store.COEByKey(ctx, coeKey)
	if err != nil {
		return fmt.Errorf("roll up %s: %w", coeKey, err)
	}
	items, err := s.Store.ActionItems(ctx, coeKey)
	if err != nil {
		return err
	}
	if err := s.mirroring(items); err != nil {
		return err
	}
	if c.RollupComment == "" {
		if err := s.expectedMissing(ctx, coeKey, items); err != nil {
			return err
		}
	}
	body := rollupBody(items)
	stateKey := "rollup:" + coeKey
	last, err := s.Store.State(ctx, stateKey)
	if err != nil {
		return err
	}
	if c.RollupComment == "" {
		// The COE's comments are the witness of a roll-up an earlier
		// attempt posted; with no attempt recorded there is none to
		// look for (the intent is written before the post).
		intentKey := "rollup:intent:" + coeKey
		earlier, err := loadIntent(ctx, s.Store, intentKey)
		if err != nil {
			return fmt.Errorf("roll up %s: %w", coeKey, err)
		}
		id, found := "", false
		if !earlier.IsZero() {
			if id, found, err = s.Jira.FindComment(ctx, coeKey, rollupMarker); err != nil {
				return fmt.Errorf("roll up %s: %w", coeKey, err)
			}
			if !found {
				if err := s.settling(earlier, "roll-up of "+coeKey); err != nil {
					return err
				}
			}
		}
		if !found {
			cctx, err := intending(ctx, func(ctx context.Context) error { return saveIntent(ctx, s.Store, intentKey, s.now()) })
			if err != nil {
				return fmt.Errorf("roll up %s: %w", coeKey, err)
			}
			if id, err = s.Jira.AddComment(cctx, coeKey, body); err != nil {
				if refused(err) {
					// Nothing was posted: the retry need not look.
					saveIntent(context.WithoutCancel(ctx), s.Store, intentKey, time.Time{})
				}
				return fmt.Errorf("roll up %s: %w", coeKey, err)
			}
			last = hash(body)
		}
		c.RollupComment = id
		if err := s.Store.SetCOERollup(ctx, c.IncidentID, id, c.CompletedAt); err != nil {
			return err
		}
	}
	if h := hash(body); h != last {
		if err := s.Jira.UpdateComment(ctx, coeKey, c.RollupComment, body); err != nil {
			return fmt.Errorf("roll up %s: %w", coeKey, err)
		}
	}
	if err := s.Store.SetState(ctx, stateKey, hash(body)); err != nil {
		return err
	}
	done := len(items) > 0
	for _, it := range items {
		if !it.Closed && it.State != store.MirrorGone {
			done = false
		}
	}
	switch {
	case done && c.CompletedAt.IsZero():
		if _, found, err := s.Jira.FindComment(ctx, coeKey, completionMarker); err != nil {
			return err
		} else if !found {
			msg := fmt.Sprintf("All %d action items of this COE are closed. (%s)", len(items), completionMarker)
			if _, err := s.Jira.AddComment(ctx, coeKey, msg); err != nil {
				return fmt.Errorf("completion comment on %s: %w", coeKey, err)
			}
		}
		if t := s.Transitions.COEDone; t != "" {
			if _, err := s.Jira.Transition(ctx, coeKey, []string{t}); err != nil {
				if !errors.Is(err, ErrNoTransition) {
					return err
				}
				s.count(ctx, store.CounterMissingTransition, 1)
				s.Log.Error("COE complete but its done transition is missing", "coe", coeKey, "transition", t)
			}
		}
		return s.Store.SetCOERollup(ctx, c.IncidentID, c.RollupComment, s.now())
	case !done && !c.CompletedAt.IsZero():
		return s.Store.SetCOERollup(ctx, c.IncidentID, c.RollupComment, time.Time{})
	}
	return nil
}

// mirrorWait bounds how long a roll-up waits for the mirrors of items the
// seed created: one that keeps failing must not keep the table away.
const mirrorWait = time.Minute

// expectedMissing returns a WaitError while a sub-task the seed created is
// not in the store yet, for up to mirrorWait after the seed: the first
// table would otherwise lack it and need an edit a moment later.
func (s *ItemSyncer) expectedMissing(ctx context.Context, coeKey string, items []store.ActionItem) error {
	want, err := s.Store.State(ctx, "rollup:expect:"+coeKey)
	if err != nil || want == "" {
		return err
	}
	seeded, err := loadIntent(ctx, s.Store, "seed:intent:"+coeKey)
	if err != nil || seeded.IsZero() || s.now().Sub(seeded) >= mirrorWait {
		return err
	}
	have := make(map[string]bool, len(items))
	for _, it := range items {
		have[it.JiraKey] = true
	}
	for _, k := range strings.Split(want, ",") {
		if !have[k] {
			return &WaitError{Wait: 250 * time.Millisecond, Reason: "action item " + k + " is not recorded yet"}
		}
	}
	return nil
}

// mirroring returns a WaitError while an item of the COE is being
// mirrored: each mirror sets off a roll-up when done, and the table
// posted now would need an edit a moment later.
func (s *ItemSyncer) mirroring(items []store.ActionItem) error {
	for _, it := range items {
		if it.Number != 0 || it.State != store.MirrorIntent || it.Problem != "" || it.Repo == "" {
			continue
		}
		since := it.OpenedAt
		if it.IntentAt.After(since) {
			since = it.IntentAt
		}
		if s.now().Sub(since) < mirrorWait {
			return &WaitError{Wait: 250 * time.Millisecond, Reason: "action item " + it.JiraKey + " is being mirrored"}
		}
	}
	return nil
}

func rollupBody(items []store.ActionItem) string {
	sort.Slice(items, func(i, j int) bool { return keyLess(items[i].JiraKey, items[j].JiraKey) })
	var b strings.Builder
	closed := 0
	for _, it := range items {
		if it.Closed {
			closed++
		}
	}
	fmt.Fprintf(&b, "h3. Action items: %d of %d closed\n", closed, len(items))
	b.WriteString("||Item||GitHub||Owner||Due||State||\n")
	for _, it := range items {
		gh := "_not mirrored yet_"
		if it.Number != 0 {
			gh = fmt.Sprintf("[%s|%s]", coe.GitHubRef(it.Repo, it.Number), safeURL(it.IssueURL))
		}
		owner, due := "_unassigned_", "_not set_"
		if it.Owner != "" {
			owner = coe.EscapeWikiCell(it.Owner)
		}
		if !it.Due.IsZero() {
			due = it.Due.Format("2006-01-02")
		}
		state := "Open"
		if it.Closed {
			state = "Closed"
		}
		if it.Problem != "" {
			state += ": " + coe.EscapeWikiCell(it.Problem)
		}
		fmt.Fprintf(&b, "|%s %s|%s|%s|%s|%s|\n", it.JiraKey, coe.EscapeWikiCell(it.Title), gh, owner, due, state)
	}
	// The marker last and whole: the roll-up is found by it. Many linked
	// items can make the table longer than a Jira comment may be.
	return coe.JiraText.Fit(b.String(), fmt.Sprintf("\n_Kept current by coesync; edits to this comment are overwritten. (%s)_", rollupMarker))
}
