package main

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs the README's first command and checks that it shows what
// it promises: one COE per incident despite triplicate deliveries, the
// changes before the incident, the action items mirrored and closed back,
// one recurrence with the earlier COE's open item called out, one overdue
// reminder (and none on a second pass), and the report counting them.
func TestDemo(t *testing.T) {
	t.Parallel()
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"demo"}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	got := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`Jira holds 2 COE tickets for 2 incidents \(6 webhook deliveries`),
		regexp.MustCompile(`\*\* .*: Deployment of v2\.31\.0 .* to production in acme/checkout`),
		regexp.MustCompile(`\*Change:\* Pull request acme/checkout#\d+ merged into main: Retry the payment provider on 502`),
		regexp.MustCompile(`coesync transitioned OPS-\d+ to Done in Jira`),
		regexp.MustCompile(`fails again: OPS-\d+, labels \[.*coe-recurrence.*\]`),
		regexp.MustCompile(`\*Recurrence:\* this incident repeats the COE OPS-\d+`),
		regexp.MustCompile(`An action item of the earlier COE OPS-\d+ is still open`),
		regexp.MustCompile(`the reminder pass sent 1 reminder \(a second pass: 0\)`),
		regexp.MustCompile(`overdue by 3 day`),
		regexp.MustCompile(`\| Recurrences \| 1 \|`),
	} {
		if !want.MatchString(got) {
			t.Errorf("the demo output lacks %s", want)
		}
	}
	// Outside the 24h window: the 30-hour-old deployment and the
	// 36-hour-old pull request are not listed.
	for _, absent := range []string{"v2.30.0", "Refactor the cart service"} {
		if strings.Contains(got, absent) {
			t.Errorf("the demo lists %q, which is outside the change window", absent)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", got)
	}
}

func TestWriteExportsQuotesForTheShell(t *testing.T) {
	var b strings.Builder
	writeExports(&b, map[string]string{"COESYNC_B": "it's", "COESYNC_A": "/tmp/x y.db", "COESYNC_EMPTY": ""})
	want := "export COESYNC_A='/tmp/x y.db'\nexport COESYNC_B='it'\\''s'\n"
	if b.String() != want {
		t.Errorf("exports:\n%s\nwant:\n%s", b.String(), want)
	}
	out, err := exec.Command("sh", "-c", b.String()+`printf '%s|%s' "$COESYNC_A" "$COESYNC_B"`).Output()
	if err != nil {
		t.Skipf("no sh: %v", err)
	}
	if string(out) != "/tmp/x y.db|it's" {
		t.Errorf("the shell read %q", out)
	}
}
