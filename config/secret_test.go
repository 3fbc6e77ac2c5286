package config_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/coesync/coesync/config"
)

func TestSecretFormatting(t *testing.T) {
	s := config.Secret("hunter2")
	var empty config.Secret
	tests := []struct {
		format    string
		want      string
		wantEmpty string
	}{
		{"%v", "[redacted]", ""},
		{"%+v", "[redacted]", ""},
		{"%#v", "[redacted]", `""`},
		{"%s", "[redacted]", ""},
		{"%q", `"[redacted]"`, `""`},
		{"%x", "[redacted]", ""},
		{"%X", "[redacted]", ""},
		{"%d", "[redacted]", ""},
		{"%T", "config.Secret", "config.Secret"},
		{"%12s|", "  [redacted]|", "            |"},
		{"%-12v|", "[redacted]  |", "            |"},
		{"%.3s", "[re", ""},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf(tt.format, s); got != tt.want {
			t.Errorf("Sprintf(%q, secret) = %q, want %q", tt.format, got, tt.want)
		}
		if got := fmt.Sprintf(tt.format, empty); got != tt.wantEmpty {
			t.Errorf("Sprintf(%q, empty) = %q, want %q", tt.format, got, tt.wantEmpty)
		}
	}
	if s.String() != "[redacted]" || s.GoString() != "[redacted]" || empty.String() != "" {
		t.Errorf("String/GoString wrong")
	}
	if s.Reveal() != "hunter2" || empty.Reveal() != "" || s.IsZero() || !empty.IsZero() {
		t.Errorf("Reveal/IsZero wrong")
	}

	// Inside structs, slices, maps and pointers too.
	type holder struct {
		Token  config.Secret
		List   config.Secrets
		ByName map[string]config.Secret
		Ptr    *config.Secret
	}
	h := holder{Token: s, List: config.Secrets{s, s}, ByName: map[string]config.Secret{"a": s}, Ptr: &s}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(f, h)
		if contains(out, "hunter2") || contains(out, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("Sprintf(%q, holder) leaks: %s", f, out)
		}
	}
	if got, want := fmt.Sprintf("%v", config.Secrets{s, s}), "[[redacted] [redacted]]"; got != want {
		t.Errorf("Secrets %%v = %q, want %q", got, want)
	}
	if got := fmt.Sprint(*h.Ptr); got != "[redacted]" {
		t.Errorf("Sprint(*ptr) = %q", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestSecretMarshal(t *testing.T) {
	v := struct {
		A config.Secret
		B config.Secret
		C config.Secrets
		D config.DSN
	}{A: "hunter2", C: config.Secrets{"x1", "x2"}, D: "postgres://u:pw@h/db"}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"A":"[redacted]","B":"","C":["[redacted]","[redacted]"],"D":"postgres://u:xxxxx@h/db"}`
	if string(got) != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	txt, _ := config.Secret("hunter2").MarshalText()
	if string(txt) != "[redacted]" {
		t.Errorf("MarshalText = %q", txt)
	}
	txt, _ = config.Secret("").MarshalText()
	if string(txt) != "" {
		t.Errorf("MarshalText(empty) = %q", txt)
	}
}

func TestSecretDecode(t *testing.T) {
	var s config.Secret
	if err := s.Decode("  tok\n"); err != nil || s.Reveal() != "tok" {
		t.Errorf("Decode = %q, %v", s.Reveal(), err)
	}
	tests := map[string][]string{
		"a":              {"a"},
		" a , b ,, c ,":  {"a", "b", "c"},
		"":               nil,
		" , ":            nil,
		"with space,x y": {"with space", "x y"},
	}
	for in, want := range tests {
		var ss config.Secrets
		if err := ss.Decode(in); err != nil {
			t.Fatal(err)
		}
		got := ss.Reveal()
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Secrets.Decode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDSNRedaction(t *testing.T) {
	tests := map[config.DSN]string{
		"coesync.db":                                "coesync.db",
		"sqlite:/var/lib/coesync.db":                "sqlite:/var/lib/coesync.db",
		"postgres://u:pw@h:5432/db?sslmode=require": "postgres://u:xxxxx@h:5432/db?sslmode=require",
		"postgres://u@h/db?password=pw":             "postgres://u@h/db?password=xxxxx",
		"postgres://u:pw@[::1/db":                   "postgres://[redacted]",
	}
	for in, want := range tests {
		for _, f := range []string{"%v", "%s", "%+v"} {
			if got := fmt.Sprintf(f, in); got != want {
				t.Errorf("Sprintf(%q, %s) = %q, want %q", f, string(in), got, want)
			}
		}
		if got := fmt.Sprintf("%#v", in); got != fmt.Sprintf("%q", want) {
			t.Errorf("%%#v of %s = %s", string(in), got)
		}
	}
}
