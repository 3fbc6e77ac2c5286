package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
)

// errNoDelivery is a delivery without the id its sender always sets.
var errNoDelivery = errors.New("missing delivery id")

// GitHub is the GitHub webhook source. verify checks X-Hub-Signature-256;
// decode returns relevant=false for pings and events coesync does not act
// on (they are stored and answered 202 all the same).
func GitHub(verify func(header string, body []byte) error,
	decode func(event, delivery string, body []byte) (ev coe.GitHubIssueEvent, relevant bool, err error)) *Source {
	return &Source{
		Name:            "github",
		SignatureHeader: "X-Hub-Signature-256",
		// GitHub's default content type; coesync must not depend on
		// whoever set up the hook choosing JSON.
		FormPayload: true,
		Verify:      func(r *http.Request, body []byte) error { return verify(r.Header.Get("X-Hub-Signature-256"), body) },
		Parse: func(r *http.Request, body []byte) (store.Delivery, error) {
			delivery, event := r.Header.Get("X-GitHub-Delivery"), r.Header.Get("X-GitHub-Event")
			if delivery == "" || event == "" {
				return store.Delivery{}, errNoDelivery
			}
			ev, relevant, err := decode(event, delivery, body)
			if err != nil {
				return store.Delivery{}, err
			}
			// The signature covers the body only: the same signed body
			// under another delivery id is a replay, not a new event.
			h := sha256.Sum256(body)
			d := store.Delivery{ID: delivery, EventType: event, ContentKey: "sha256:" + hex.EncodeToString(h[:])}
			if !relevant {
				return d, nil
			}
			d.EventType, d.ResourceID = event+"."+ev.Action, ev.Issue.Ref()
			// Only issues coesync made carry the marker naming their item.
			if key, ok := engine.KeyFromBody(ev.Issue.Body); ok {
				d.Jobs = []store.Job{engine.SyncItemJob(key, "github")}
			}
			return d, nil
		},
	}
}

// Jira is the Jira webhook source. verify checks X-Hub-Signature or the
// secret query parameter (Jira Cloud automation cannot set headers).
func Jira(verify func(header, querySecret string, body []byte) error,
	decode func(delivery string, body []byte) (ev coe.JiraEvent, relevant bool, err error)) *Source {
	return &Source{
		Name:            "jira",
		SignatureHeader: "X-Hub-Signature",
		Verify: func(r *http.Request, body []byte) error {
			return verify(r.Header.Get("X-Hub-Signature"), r.URL.Query().Get("secret"), body)
		},
		Parse: func(r *http.Request, body []byte) (store.Delivery, error) {
			delivery := r.Header.Get("X-Atlassian-Webhook-Identifier")
			if delivery == "" {
				// Automation rules send none: the body (with its
				// timestamp) identifies the delivery.
				h := sha256.Sum256(body)
				delivery = "sha256:" + hex.EncodeToString(h[:16])
			}
			ev, relevant, err := decode(delivery, body)
			if err != nil {
				return store.Delivery{}, err
			}
			d := store.Delivery{ID: delivery, EventType: "jira:issue_" + ev.Kind, ResourceID: ev.Key}
			if relevant && ev.Key != "" && (ev.Parent != "" || hasLabel(ev.Labels, engine.ActionItemLabel)) {
				d.Jobs = []store.Job{engine.SyncItemJob(ev.Key, "jira")}
			}
			return d, nil
		},
	}
}

func hasLabel(ls []string, l string) bool {
	for _, v := range ls {
		if v == l {
			return true
		}
	}
	return false
}
