package pagerduty_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
)

func TestIsUser(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	srv.AddUser(pdtest.User{ID: "PBOT001", Name: "coesync", Email: "coesync@acme.example"})
	c := newClient(t, srv)
	for _, tc := range []struct {
		email string
		want  bool
	}{
		{"coesync@acme.example", true},
		{"CoeSync@Acme.Example", true},
		{pdtest.Alice.Email, true},
		{"coesync@acme.exampl", false}, // a substring match of the query is not the user
		{"nobody@acme.example", false},
		{"", false},
	} {
		got, err := c.IsUser(ctx, tc.email)
		if err != nil || got != tc.want {
			t.Errorf("IsUser(%q) = %v, %v; want %v", tc.email, got, err, tc.want)
		}
	}
	r := srv.Requests()[0]
	if r.Method != http.MethodGet || r.Path != "/users" || r.Query.Get("query") != "coesync@acme.example" {
		t.Errorf("request %s %s %v, want GET /users?query=email", r.Method, r.Path, r.Query)
	}
}

func TestProbeNoteWrite(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	c := newClient(t, srv)
	if err := c.ProbeNoteWrite(ctx); err != nil {
		t.Fatalf("full-access key: %v", err)
	}
	r := srv.Requests()[len(srv.Requests())-1]
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Path, "/incidents/coesync-check-") || !strings.HasSuffix(r.Path, "/notes") {
		t.Errorf("probe %s %s", r.Method, r.Path)
	}
	for _, id := range []string{"PSIMP01", "PRICH01"} {
		if len(srv.Notes(id)) != 0 {
			t.Errorf("the probe wrote a note on %s", id)
		}
	}
	srv.ReadOnly(true)
	if err := c.ProbeNoteWrite(ctx); !errors.Is(err, pagerduty.ErrReadOnly) {
		t.Errorf("read-only key: %v, want ErrReadOnly", err)
	}
	if err := newClient(t, srv, func(o *pagerduty.Options) { o.From = "" }).ProbeNoteWrite(ctx); err == nil {
		t.Error("no From: the probe passed")
	}
}
