package coe

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// richChanges is what changed before the rich incident: a deployment and
// two merged pull requests of acme/checkout, and a repository that could
// not be listed.
func richChanges() ChangeList {
	cs := []Change{
		{Kind: ChangePR, Repo: "acme/checkout", Number: 812, Title: "Raise DB pool size to 50", Author: "alice",
			Ref: "main", SHA: "4f2a9c81d0e1b2c3d4e5f60718293a4b5c6d7e8f", URL: "https://github.com/acme/checkout/pull/812", At: t0.Add(-3 * time.Hour)},
		{Kind: ChangeDeploy, Repo: "acme/checkout", Title: "release 2.31.0", Author: "deploy-bot", Ref: "v2.31.0",
			SHA: "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c", Environment: "production",
			URL: "https://github.com/acme/checkout/commit/9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c", At: t0.Add(-40 * time.Minute)},
		{Kind: ChangePR, Repo: "acme/checkout", Number: 815, Title: "Retry payment provider on 502", Author: "bob",
			Ref: "main", URL: "https://github.com/acme/checkout/pull/815", At: t0.Add(-time.Hour)},
	}
	SortChanges(cs)
	return ChangeList{Repos: []string{"acme/checkout", "acme/checkout-infra"}, Since: t0.Add(-24 * time.Hour), Until: t0,
		Changes: cs, Failed: []RepoFailure{{Repo: "acme/checkout-infra", Reason: "github HTTP 404: Not Found"}}}
}

// richHistory: the same service had a COE 12 days earlier with one action
// item still open, and one 200 days earlier (outside the window).
func richHistory() History {
	return History{Searched: true, Window: 90 * 24 * time.Hour, Earlier: []EarlierCOE{
		{TicketKey: "PAY-88", TicketURL: "https://acme.atlassian.net/browse/PAY-88", Title: "Checkout API timeouts",
			IncidentID: "Q0OLD1", IncidentNumber: 4710, CreatedAt: t0.Add(-12 * 24 * time.Hour), SameService: true,
			ItemsKnown: true, OpenItems: 1, DoneItems: 2, InWindow: true,
			Open: []EarlierItem{{Key: "PAY-90", Summary: "Alert on DB pool saturation", URL: "https://github.com/acme/checkout/issues/77",
				Owner: "Lee Turner", Due: t0.Add(-2 * 24 * time.Hour)}}},
		{TicketKey: "PAY-12", TicketURL: "https://acme.atlassian.net/browse/PAY-12", Title: "Checkout down",
			IncidentNumber: 3999, CreatedAt: t0.Add(-200 * 24 * time.Hour), SameService: true, ItemsKnown: true, DoneItems: 3},
	}}
}

// linksOf are the links a draft with changes and history may render.
func linksOf(d Draft) []string {
	out := allowedLinks(d)
	add := func(u string) {
		if l := wikiLink(u); l != "" {
			out = append(out, l)
		}
	}
	for _, c := range d.Changes.Changes {
		add(c.URL)
	}
	for _, e := range d.History.Earlier {
		add(e.TicketURL)
		for _, it := range e.Open {
			add(it.URL)
		}
	}
	return out
}

func TestRenderChangesAndRecurrenceGolden(t *testing.T) {
	d := richDraft().WithChanges(richChanges()).WithHistory(richHistory())
	out, err := mustRenderer(t).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "recurrence.wiki", out)
	if hz := wikiDocHazards(out, linksOf(d)); len(hz) > 0 {
		t.Errorf("hazards:\n%s", strings.Join(hz, "\n"))
	}
	for _, want := range []string{
		// Summary: flagged, with the open item called out.
		"*Recurrence:* this incident repeats the COE PAY-88 of PagerDuty #4710, created 2026-11-11, within the recurrence window of 90d. [https://acme.atlassian.net/browse/PAY-88]",
		"*An action item of the earlier COE PAY-88 is still open.*",
		"* PAY-90 Alert on DB pool saturation (owner: Lee Turner), due 2026-11-21 [https://github.com/acme/checkout/issues/77]",
		// Related items: earlier COEs with their items' state.
		"** PAY-88 Checkout API timeouts (PagerDuty #4710): created 2026-11-11, *recurrence*; action items: 1 open, 2 done [https://acme.atlassian.net/browse/PAY-88]",
		"** PAY-12 Checkout down (PagerDuty #3999): created 2026-05-07; action items: 0 open, 3 done [https://acme.atlassian.net/browse/PAY-12]",
		// Changes, newest first, linked.
		"* *Changes in the 1d before the incident was triggered* in acme/checkout, acme/checkout-infra, newest first:",
		"** _acme/checkout-infra: changes could not be listed (github HTTP 404: Not Found)_",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
	order := regexp.MustCompile(`(?m)^\*\* 2026-11-2\d \d\d:\d\d:\d\d UTC: (.*?) \[https`).FindAllStringSubmatch(out, -1)
	var got []string
	for _, m := range order {
		got = append(got, m[1])
	}
	want := []string{
		"Deployment of v2.31.0 (9b8c7d6) to production in acme/checkout: release 2.31.0 (by deploy-bot)",
		"Pull request acme/checkout#815 merged into main: Retry payment provider on 502 (by bob)",
		"Pull request acme/checkout#812 merged into main: Raise DB pool size to 50 (by alice)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("change list:\n%s\nwant (newest first):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The timeline marks each change where it falls: before the trigger.
	tl := regexp.MustCompile(`(?m)^\| (2026-11-2\d \d\d:\d\d:\d\d) UTC \| [^|]* \| \*(\w+):\*`).FindAllStringSubmatch(out, -1)
	var marks []string
	for _, m := range tl {
		marks = append(marks, m[2]+"@"+m[1][11:])
	}
	if got, want := strings.Join(marks[:4], " "), "Change@06:15:02 Change@08:15:02 Change@08:35:02 Detection@09:15:02"; got != want {
		t.Errorf("timeline milestones start %q, want %q", got, want)
	}
}

func TestRenderNoRecurrenceNoChanges(t *testing.T) {
	d := richDraft().WithChanges(ChangeList{Repos: []string{"acme/checkout"}, Since: t0.Add(-24 * time.Hour), Until: t0}).
		WithHistory(History{Searched: true, Window: 90 * 24 * time.Hour, Earlier: []EarlierCOE{
			{TicketKey: "PAY-12", CreatedAt: t0.Add(-200 * 24 * time.Hour), ItemsKnown: true, OpenItems: 1,
				Open: []EarlierItem{{Key: "PAY-13", Summary: "old"}}}}})
	out, err := mustRenderer(t).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"*Recurrence:*", "still open", "*Change:*", "_Changes shortly before", "_Earlier COEs for this service"} {
		if strings.Contains(out, absent) {
			t.Errorf("rendering has %q", absent)
		}
	}
	for _, want := range []string{
		"* *Changes in the 1d before the incident was triggered* in acme/checkout: none.",
		"** PAY-12: created 2026-05-07; action items: 1 open, 0 done",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
	// Nothing searched, no repositories: the prompts stay.
	out, err = mustRenderer(t).Render(richDraft())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"* _Earlier COEs for this service or this kind of failure:_",
		"* _Changes shortly before the incident (deploys, merged pull requests, configuration):_"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
}

// Pull request titles, logins, branch names and earlier COE titles are
// untrusted: none of them may inject markup, links or mentions.
func TestRenderHostileChangesGolden(t *testing.T) {
	hostile := strings.Join(hostileStrings[:12], " ")
	cl := ChangeList{Repos: []string{"acme/checkout"}, Since: t0.Add(-24 * time.Hour), Until: t0, Changes: []Change{
		{Kind: ChangePR, Repo: "acme/checkout", Number: 1, Title: hostile + " " + hostileMention, Author: hostileGHUser,
			Ref: "{html}main", URL: "javascript:alert(1)", At: t0.Add(-time.Hour)},
		{Kind: ChangeDeploy, Repo: "acme/checkout", Title: hostileLink + "\nh1. x", Author: "[~admin]", Ref: hostileImage,
			SHA: "|x|", Environment: hostileColor, URL: "https://github.com/acme/checkout/commit/abc?x=[a]|{b}", At: t0.Add(-2 * time.Hour)},
	}, Failed: []RepoFailure{{Repo: "acme/checkout", Reason: hostileHTML}}, Truncated: []string{hostileLink}}
	h := History{Searched: true, Window: 90 * 24 * time.Hour, Failed: hostileMention, Earlier: []EarlierCOE{
		{TicketKey: "[~admin]", TicketURL: "javascript:x", Title: hostile, CreatedAt: t0.Add(-24 * time.Hour), InWindow: true,
			ItemsKnown: true, OpenItems: 1, Open: []EarlierItem{{Key: hostileIssueRef, Summary: hostileImage + hostileMention,
				Owner: hostileGHUser, URL: "https://github.com/acme/x/issues/1#[x]"}}}}}
	d := hostileDraft().WithChanges(cl).WithHistory(h)
	out, err := mustRenderer(t).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "hostile-changes.wiki", out)
	if hz := wikiDocHazards(out, linksOf(d)); len(hz) > 0 {
		t.Errorf("hazards:\n%s", strings.Join(hz, "\n"))
	}
	if strings.Contains(out, "javascript:") && strings.Contains(out, "[javascript:") {
		t.Error("a javascript: URL became a link")
	}
}

func TestLabels(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{ServiceLabel("PCHKAPI"), "pd-service-pchkapi"},
		{ServiceLabel("P X"), "pd-service-p_20x"},
		{IncidentKeyLabel("checkout-5xx"), IncidentKeyLabel(" checkout-5xx ")},
	} {
		if tc.got != tc.want {
			t.Errorf("label %q, want %q", tc.got, tc.want)
		}
	}
	if l := IncidentKeyLabel(strings.Repeat("k ", 500)); len(l) != len("pd-key-")+16 || strings.ContainsAny(l, " \t") {
		t.Errorf("incident key label %q", l)
	}
	if l := ServiceLabel(strings.Repeat("x", 400)); len(l) > maxLabelLen {
		t.Errorf("service label of %d bytes", len(l))
	}
}

func TestHistoryRecurrence(t *testing.T) {
	h := richHistory()
	e, ok := h.Recurrence()
	if !ok || e.TicketKey != "PAY-88" || len(h.StillOpen()) != 1 {
		t.Fatalf("Recurrence = %v %v, StillOpen = %v", e, ok, h.StillOpen())
	}
	h.Earlier[0].InWindow = false
	if h.IsRecurrence() || len(h.StillOpen()) != 0 || (Draft{History: h}).RepeatOf() != nil {
		t.Error("outside the window: still a recurrence")
	}
}
