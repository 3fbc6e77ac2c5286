package jira_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/sync/coe"
)

func TestVerifyWebhook(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"webhookEvent":"jira:issue_updated"}`)
	good := jira.Sign(secret, body)
	tests := []struct {
		name   string
		secret []byte
		header string
		query  string
		body   []byte
		want   error
	}{
		{"valid signature", secret, good, "", body, nil},
		{"signature in upper case", secret, strings.ToUpper(good), "", body, nil},
		{"valid query secret", secret, "", "s3cret", body, nil},
		{"bad signature, valid query secret", secret, jira.Sign([]byte("other"), body), "s3cret", body, nil},
		{"valid signature, bad query secret", secret, good, "wrong", body, nil},
		{"wrong key", secret, jira.Sign([]byte("other"), body), "", body, jira.ErrBadSignature},
		{"other body", secret, good, "", []byte(`{"webhookEvent":"jira:issue_deleted"}`), jira.ErrBadSignature},
		{"malformed signature", secret, "sha1=abc", "", body, jira.ErrBadSignature},
		{"not hex", secret, "sha256=" + strings.Repeat("zz", 32), "", body, jira.ErrBadSignature},
		{"wrong query secret", secret, "", "s3cre", body, jira.ErrBadSecret},
		{"both wrong", secret, "sha256=00", "nope", body, jira.ErrBadSignature},
		{"nothing", secret, "", "", body, jira.ErrNoSignature},
		{"empty secret, empty-key signature", nil, jira.Sign(nil, body), "", body, jira.ErrNoSecret},
		{"empty secret, empty query", []byte{}, "", "", body, jira.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := jira.VerifyWebhook(tt.secret, tt.header, tt.query, tt.body)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// The real Jira Cloud captures of shared/contracts/jira/webhooks.
func TestDecodeWebhookCaptures(t *testing.T) {
	tests := []struct {
		file string
		want coe.JiraEvent
	}{
		{"skill-sync-jira_issue_created.json", coe.JiraEvent{
			ID: "d-1", Kind: coe.JiraEventCreated, At: time.UnixMilli(1735441883659).UTC(), Key: "KAN-22", Labels: []string{},
			Changed: []string{"assignee", "description", "priority", "reporter", "status", "summary"},
		}},
		{"skill-sync-jira_issue_updated.json", coe.JiraEvent{
			ID: "d-1", Kind: coe.JiraEventUpdated, At: time.UnixMilli(1735442025214).UTC(), Key: "KAN-22", Labels: []string{},
			Changed: []string{"description"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := jira.DecodeWebhook("d-1", b)
			if err != nil {
				t.Fatal(err)
			}
			// The issue as the payload has it: what an echo is told by.
			it := got.Item
			if it == nil || it.Key != "KAN-22" || it.Summary != "Add back button to pages" || it.Priority != "Medium" ||
				it.Status != "To Do" || it.Done || it.AssigneeName != "Sirajudheen MK" || it.Updated.IsZero() || it.URL != "" {
				t.Fatalf("item %+v", it)
			}
			got.Item = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestDecodeWebhook(t *testing.T) {
	tests := []struct {
		name string
		body string
		want coe.JiraEvent
		err  error
	}{
		{"deleted sub-task", `{"timestamp":1700000000000,"webhookEvent":"jira:issue_deleted","issue_event_type_name":"issue_deleted",
			"issue":{"id":"10002","key":"OPS-2","fields":{"parent":{"id":"10001","key":"OPS-1"},"labels":["coe-action-item"]}}}`,
			coe.JiraEvent{ID: "d", Kind: "deleted", At: time.UnixMilli(1700000000000).UTC(), Key: "OPS-2", Parent: "OPS-1", Labels: []string{"coe-action-item"}}, nil},
		{"changelog without fieldId, repeated field", `{"timestamp":1,"webhookEvent":"jira:issue_updated",
			"issue":{"key":"OPS-3","fields":{}},
			"changelog":{"items":[{"field":"Link","toString":"This issue relates to OPS-1"},{"field":"Link"},{"field":"Story Points","fieldId":"customfield_10016"}]}}`,
			coe.JiraEvent{ID: "d", Kind: "updated", At: time.UnixMilli(1).UTC(), Key: "OPS-3", Changed: []string{"link", "customfield_10016"}}, nil},
		{"no timestamp", `{"webhookEvent":"jira:issue_created","issue":{"key":"OPS-4"}}`,
			coe.JiraEvent{ID: "d", Kind: "created", Key: "OPS-4"}, nil},
		{"comment event", `{"webhookEvent":"comment_created","comment":{"body":"x"},"issue":{"key":"OPS-1"}}`, coe.JiraEvent{}, jira.ErrIgnoredEvent},
		{"issue link event", `{"webhookEvent":"issuelink_created","issueLink":{"id":1}}`, coe.JiraEvent{}, jira.ErrIgnoredEvent},
		{"not JSON", `webhookEvent=jira:issue_created`, coe.JiraEvent{}, jira.ErrMalformed},
		{"no webhookEvent", `{"issue":{"key":"OPS-1"}}`, coe.JiraEvent{}, jira.ErrMalformed},
		{"no issue", `{"webhookEvent":"jira:issue_updated"}`, coe.JiraEvent{}, jira.ErrMalformed},
		{"issue without key", `{"webhookEvent":"jira:issue_updated","issue":{"id":"1"}}`, coe.JiraEvent{}, jira.ErrMalformed},
		{"wrong types", `{"webhookEvent":"jira:issue_updated","issue":{"key":7}}`, coe.JiraEvent{}, jira.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jira.DecodeWebhook("d", []byte(tt.body))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// receiver is what coesync's server does with a Jira webhook: verify, then
// decode.
type receiver struct {
	secret []byte
	mu     sync.Mutex
	events []coe.JiraEvent
	errs   []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	err := jira.VerifyWebhook(rc.secret, r.Header.Get(jira.SignatureHeader), r.URL.Query().Get(jira.SecretParam), body)
	var ev coe.JiraEvent
	if err == nil {
		ev, err = jira.DecodeWebhook(r.Header.Get(jira.DeliveryHeader), body)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.errs = append(rc.errs, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc.events = append(rc.events, ev)
}

func (rc *receiver) got() ([]coe.JiraEvent, []error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]coe.JiraEvent(nil), rc.events...), append([]error(nil), rc.errs...)
}

// The fake's webhooks verify and decode: created, updated (with the changed
// fields), deleted; in order, with unique ids and the change's time.
func TestWebhookRoundTrip(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	srv, c := setup(t, jiratest.Options{Now: clk.Now})
	rc := &receiver{secret: []byte("s3cret")}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	srv.SendWebhooks(hook.URL+"/webhooks/jira", "s3cret")

	parent := mustCreate(t, c, spec("COE", "coe"))
	clk.Add(time.Second)
	sub := mustSubtask(t, c, parent.Key, "fix", actionLabel)
	clk.Add(time.Second)
	due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := c.EditItem(ctx, sub.Key, nil, &due); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Transition(ctx, sub.Key, []string{"In Progress"}); err != nil {
		t.Fatal(err)
	}
	srv.Assign(sub.Key, "acc-1", "", "Ana")
	srv.DropWebhooks(true)
	srv.EditSummary(sub.Key, "lost") // never delivered
	srv.DropWebhooks(false)
	clk.Add(time.Second)
	srv.Delete(sub.Key)
	srv.Flush()

	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	want := []coe.JiraEvent{
		{Kind: "created", At: t0, Key: parent.Key, Labels: []string{"coe"}, Changed: []string{"priority", "reporter", "status", "summary", "labels"}},
		{Kind: "created", At: t0.Add(time.Second), Key: sub.Key, Parent: parent.Key, Labels: []string{actionLabel}, Changed: []string{"priority", "reporter", "status", "summary", "labels"}},
		{Kind: "updated", At: t0.Add(2 * time.Second), Key: sub.Key, Parent: parent.Key, Labels: []string{actionLabel}, Changed: []string{"duedate"}},
		{Kind: "updated", At: t0.Add(2 * time.Second), Key: sub.Key, Parent: parent.Key, Labels: []string{actionLabel}, Changed: []string{"status"}},
		{Kind: "updated", At: t0.Add(2 * time.Second), Key: sub.Key, Parent: parent.Key, Labels: []string{actionLabel}, Changed: []string{"assignee"}},
		{Kind: "deleted", At: t0.Add(3 * time.Second), Key: sub.Key, Parent: parent.Key, Labels: []string{actionLabel}},
	}
	got, errs := rc.got()
	if len(errs) != 0 {
		t.Fatalf("receiver errors: %v", errs)
	}
	if len(got) != len(want) || srv.Deliveries() != len(want) {
		t.Fatalf("%d events (%d deliveries), want %d: %+v", len(got), srv.Deliveries(), len(want), got)
	}
	ids := map[string]bool{}
	for i := range want {
		g := got[i]
		if g.ID == "" || ids[g.ID] {
			t.Fatalf("#%d: id %q not unique", i, g.ID)
		}
		ids[g.ID] = true
		g.ID = ""
		// Changed order is the fake's; compare as sets.
		if !sameSet(g.Changed, want[i].Changed) {
			t.Fatalf("#%d: changed %v, want %v", i, g.Changed, want[i].Changed)
		}
		g.Changed = want[i].Changed
		if g.Item == nil || g.Item.Key != g.Key || g.Item.Parent != g.Parent || g.Item.Updated.IsZero() {
			t.Fatalf("#%d: item %+v", i, g.Item)
		}
		g.Item = nil
		if !reflect.DeepEqual(g, want[i]) {
			t.Fatalf("#%d:\n%+v\nwant\n%+v", i, g, want[i])
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// Automation-style webhooks carry the secret in the URL and no signature;
// a wrong secret is refused.
func TestWebhookQuerySecret(t *testing.T) {
	srv, c := setup(t, jiratest.Options{})
	rc := &receiver{secret: []byte("s3cret")}
	hook := httptest.NewServer(rc)
	defer hook.Close()

	srv.SendWebhooks(hook.URL+"/webhooks/jira?secret=s3cret", "")
	mustCreate(t, c, spec("a"))
	srv.Flush()
	srv.SendWebhooks(hook.URL+"/webhooks/jira?secret=guess", "")
	mustCreate(t, c, spec("b"))
	srv.Flush()
	srv.SendWebhooks(hook.URL+"/webhooks/jira", "wrong-signing-key")
	mustCreate(t, c, spec("c"))
	srv.Flush()

	got, errs := rc.got()
	if len(got) != 1 || got[0].Key != "OPS-1" {
		t.Fatalf("events %+v", got)
	}
	if len(errs) != 2 || !errors.Is(errs[0], jira.ErrBadSecret) || !errors.Is(errs[1], jira.ErrBadSignature) {
		t.Fatalf("errors %v", errs)
	}
	if srv.Deliveries() != 1 {
		t.Fatalf("Deliveries %d", srv.Deliveries())
	}
}
