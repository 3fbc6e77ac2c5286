package jira_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/sync/engine"
)

func TestCreateMeta(t *testing.T) {
	srv, c := setup(t, jiratest.Options{Projects: []jiratest.Project{
		{Key: "OPS", Name: "Operations", IssueTypes: []jiratest.IssueType{
			{Name: "Task"}, {Name: "COE", RequiredFields: []string{"Customer impact"}}, {Name: "Sub-task", Subtask: true},
		}},
	}})
	ctx := context.Background()
	types, err := c.IssueTypes(ctx, "OPS")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]string{}
	for _, ty := range types {
		names = append(names, ty.Name)
		byName[ty.Name] = ty.ID
		if ty.Subtask != (ty.Name == "Sub-task") {
			t.Errorf("%s subtask = %v", ty.Name, ty.Subtask)
		}
	}
	if strings.Join(names, ",") != "Task,COE,Sub-task" {
		t.Fatalf("issue types = %v", names)
	}
	fields, err := c.CreateFields(ctx, "OPS", byName["COE"])
	if err != nil {
		t.Fatal(err)
	}
	var required []string
	for _, f := range fields {
		if f.Required && !f.HasDefault {
			required = append(required, f.Name)
		}
	}
	if strings.Join(required, ",") != "Summary,Issue Type,Project,Customer impact" {
		t.Errorf("required fields without default = %v", required)
	}
	sub, err := c.CreateFields(ctx, "OPS", byName["Sub-task"])
	if err != nil {
		t.Fatal(err)
	}
	hasParent := false
	for _, f := range sub {
		hasParent = hasParent || (f.ID == "parent" && f.Required)
	}
	if !hasParent {
		t.Error("sub-task create fields lack a required parent")
	}
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/rest/api/2/issue/createmeta/OPS/issuetypes") {
			t.Errorf("unexpected request %s %s", r.Method, r.Path)
		}
	}
	if _, err := c.IssueTypes(ctx, "NOPE"); engine.StatusOf(err) != http.StatusNotFound {
		t.Errorf("unknown project: %v, want 404", err)
	}
	if _, err := c.IssueTypes(ctx, "../x"); err == nil || srv.Count("", "/rest/api/2/issue/createmeta/..") != 0 {
		t.Errorf("invalid project key sent or accepted: %v", err)
	}
	if who, err := c.Myself(ctx); err != nil || who == "" {
		t.Errorf("Myself() = %q, %v", who, err)
	}
}

func TestRecentItemsAndTransitions(t *testing.T) {
	srv, c := setup(t, jiratest.Options{})
	ctx := context.Background()
	ref := mustCreate(t, c, spec("an item", "coe-action-item"))
	mustCreate(t, c, spec("not an item"))
	items, err := c.RecentItems(ctx, "OPS", "coe-action-item")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Key != ref.Key {
		t.Fatalf("RecentItems = %v, want %s only", items, ref.Key)
	}
	names, err := c.Transitions(ctx, ref.Key)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "In Progress" {
		t.Errorf("transitions from To Do = %v", names)
	}
	if n := srv.Count(http.MethodPost, "/rest/api/2/issue/"+ref.Key+"/transitions"); n != 0 {
		t.Errorf("Transitions made %d transitions", n)
	}
}
