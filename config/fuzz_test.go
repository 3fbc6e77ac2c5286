package config_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/coesync/coesync/config"
)

// rulesErrLine is how every line of a ParseRules error starts: the file
// name and, when yaml.v3 knows it, the line.
var rulesErrLine = regexp.MustCompile(`^fuzz\.yaml(:[0-9]+)?: \S`)

func FuzzParseRules(f *testing.F) {
	example, err := os.ReadFile("testdata/rules.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, s := range []string{
		"", "rules: []\n", "rules:\n  - name: x\n    skip: true\n    jira: project: PAY\n",
		"rules:\n  - match: *nope\n", "rules:\n\t- name: x\n", "rules: []\n---\nrules: []\n", "- name: x\n",
		"rules:\n  - &a {name: x, match: {service: [a]}, jira: {project: P}}\n  - *a\n",
		"rules:\n  - name: x\n    match: {a: b\n  - skip: true\n", "a: &a [*a]\n", "rules: !!binary AAAA\n",
		"rules:\n  - jira: {priority_map: {P1: Highest, P1: Low}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := config.ParseRules("fuzz.yaml", data)
		if err == nil {
			if r == nil {
				t.Fatal("nil rules without an error")
			}
			return
		}
		if r != nil {
			t.Fatalf("rules returned with error %v", err)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !rulesErrLine.MatchString(line) {
				t.Fatalf("error line %q lacks the fuzz.yaml:line: prefix (error %q)", line, err)
			}
		}
	})
}
