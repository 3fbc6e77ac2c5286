package hmacsig

import (
	"errors"
	"strings"
	"testing"
)

var errBad = errors.New("bad signature")

// RFC 4231, test case 2.
var (
	key  = []byte("Jefe")
	data = []byte("what do ya want for nothing?")
	mac  = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
)

func TestSign(t *testing.T) {
	if got := Sign("sha256=", key, data); got != "sha256="+mac {
		t.Fatalf("Sign = %q", got)
	}
	if got := Sign("v1=", key, data); got != "v1="+mac {
		t.Fatalf("Sign = %q", got)
	}
	if len(Sum(key, data)) != HexLen/2 {
		t.Fatalf("Sum is %d bytes", len(Sum(key, data)))
	}
}

func TestCheck(t *testing.T) {
	wrong := strings.Repeat("0", HexLen)
	for _, c := range []struct {
		name, header string
		want         string // "" for nil
	}{
		{"match", "sha256=" + mac, ""},
		{"prefix in another case", "SHA256=" + strings.ToUpper(mac), ""},
		{"mismatch", "sha256=" + wrong, "bad signature"},
		{"other body", Sign("sha256=", key, []byte("x")), "bad signature"},
		{"no prefix", mac, "bad signature: want sha256=<64 hex digits>"},
		{"other prefix", "sha1=" + mac[:len(mac)-1], "bad signature: want sha256=<64 hex digits>"},
		{"short", "sha256=" + mac[:62], "bad signature: want sha256=<64 hex digits>"},
		{"not hex", "sha256=" + strings.Repeat("zz", 32), "bad signature: want sha256=<64 hex digits>"},
		{"empty", "", "bad signature: want sha256=<64 hex digits>"},
	} {
		err := Check(key, c.header, "sha256=", data, errBad)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || err.Error() != c.want || !errors.Is(err, errBad)):
			t.Errorf("%s: %v, want %q wrapping errBad", c.name, err, c.want)
		}
	}
}
