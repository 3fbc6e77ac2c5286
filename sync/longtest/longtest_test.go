package longtest

import (
	"testing"
)

func TestEnabledFollowsTheVariable(t *testing.T) {
	for _, c := range []struct {
		value string
		want  bool
	}{
		{"", false},
		{"0", false},
		{"true", false},
		{"1", !testing.Short()},
	} {
		t.Setenv(Env, c.value)
		if got := Enabled(); got != c.want {
			t.Errorf("%s=%q: Enabled() = %v, want %v", Env, c.value, got, c.want)
		}
	}
}

func TestRequireSkipsWithTheSwitchNamed(t *testing.T) {
	t.Setenv(Env, "")
	var skipped bool
	t.Run("long", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Require(t)
	})
	if !skipped {
		t.Fatal("Require did not skip without " + Env)
	}
}
