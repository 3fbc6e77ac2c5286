package config

import (
	"strings"
	"testing"
)

func TestUserMap(t *testing.T) {
	m, err := parseUserMap("users.yaml", []byte("5b10ac8d82e05b22cc7d4ef5: alice-gh\nBob@Example.com: \"@bobby\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, email, want string }{
		{"5b10ac8d82e05b22cc7d4ef5", "", "alice-gh"},
		{"", "bob@example.com", "bobby"},
		{"unknown", "BOB@EXAMPLE.COM", "bobby"},
		{"unknown", "carol@example.com", ""},
		{"", "", ""},
	} {
		if got := m.Login(tc.id, tc.email); got != tc.want {
			t.Errorf("Login(%q, %q) = %q, want %q", tc.id, tc.email, got, tc.want)
		}
	}
	for _, bad := range []string{"- a\n- b\n", "x: [a]\n", "x: not a login!\n"} {
		if _, err := parseUserMap("users.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "users.yaml:") {
			t.Errorf("%q: err = %v, want one naming the line", bad, err)
		}
	}
}

// A user map pointed at another file (a secrets file, /etc/shadow) names
// the variable and the line, never the value.
func TestUserMapValueNotShown(t *testing.T) {
	_, err := parseUserMap("/etc/shadow", []byte("root: \"$6$s4lt$SECRETHASH\"\n"))
	want := "COESYNC_USER_MAP_FILE: /etc/shadow:1: the value is not a GitHub login (letters, digits and inner hyphens; not shown)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}
