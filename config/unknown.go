package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// otherVariables are COESYNC_* variables read outside Config: by the tests
// and the CI script, never by the service.
var otherVariables = map[string]bool{
	"COESYNC_TEST_POSTGRES_URL": true, "COESYNC_LONG_TESTS": true,
	"COESYNC_ARTIFACTS_DIR": true, "COESYNC_CHROMIUM": true,
}

// Settings lists the COESYNC_* variables coesync reads, sorted.
func Settings() []string {
	var out []string
	t := reflect.TypeOf(Config{})
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("envconfig"); name != "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// UnknownSettings names every COESYNC_* variable in environ (KEY=value
// pairs, as os.Environ gives them) that coesync does not read, with the
// closest setting when one is near: a misspelt variable is otherwise
// silently ignored and its default used. Values are never shown.
func UnknownSettings(environ []string) []string {
	known := map[string]bool{}
	settings := Settings()
	for _, s := range settings {
		known[s] = true
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "COESYNC_") || known[name] || otherVariables[name] {
			continue
		}
		msg := name + " is not a coesync setting"
		if near := closest(name, settings); near != "" {
			msg += "; did you mean " + near + "?"
		}
		out = append(out, msg)
	}
	sort.Strings(out)
	return out
}

// nearMiss returns a set variable that is a likely misspelling of the
// setting name, or "".
func nearMiss(name string, environ []string) string {
	settings := Settings()
	for _, kv := range environ {
		v, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(v, "COESYNC_") && v != name && !otherVariables[v] && closest(v, settings) == name {
			return v
		}
	}
	return ""
}

// closest is the setting nearest to name by edit distance, if it is near
// enough to be a typo (a third of the part after COESYNC_, at least 2).
func closest(name string, settings []string) string {
	best, bestD := "", 1<<30
	for _, s := range settings {
		if d := editDistance(name, s); d < bestD {
			best, bestD = s, d
		}
	}
	limit := max(2, len(strings.TrimPrefix(name, "COESYNC_"))/3)
	if bestD > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (ASCII names).
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// withNearMisses adds to each problem about a setting that is not set the
// near-miss variable that is, so "COESYNC_JIRA_PROJECT: required" also
// says COESYNC_JIRA_PROJET is set.
func withNearMisses(errs problems, environ []string) problems {
	out := make(problems, len(errs))
	for i, e := range errs {
		out[i] = e
		name, _, ok := strings.Cut(e.Error(), ":")
		if !ok || !strings.HasPrefix(name, "COESYNC_") {
			continue
		}
		if _, set := lookup(environ, name); set {
			continue
		}
		if v := nearMiss(name, environ); v != "" {
			out[i] = fmt.Errorf("%w (%s is set: did you mean %s?)", e, v, name)
		}
	}
	return out
}

func lookup(environ []string, name string) (string, bool) {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}
