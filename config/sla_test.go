package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
)

func TestParseSLA(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in      string
		want    map[string]time.Duration
		wantErr string
	}{
		{in: "", want: nil},
		{in: "P1=14d,P2=30d,P3=60d,default=45d", want: map[string]time.Duration{"P1": 14 * day, "P2": 30 * day, "P3": 60 * day, "default": 45 * day}},
		{in: " P1 = 2w , DEFAULT=36h ", want: map[string]time.Duration{"P1": 14 * day, "default": 36 * time.Hour}},
		{in: "P1", wantErr: `want priority=days such as P1=14d, got "P1"`},
		{in: "P1=", wantErr: `want priority=days`},
		{in: "P1=14", wantErr: `P1: want a duration such as 14d, 2w or 36h, got "14"`},
		{in: "P1=xd", wantErr: `want a duration such as 14d`},
		{in: "P1=10m", wantErr: `P1: want at least 1h, got "10m"`},
		{in: "P1=0d", wantErr: `want at least 1h`},
		{in: "P1=-3d", wantErr: `want at least 1h`},
		{in: "P1=99999d", wantErr: `more than ten years`},
		{in: "p1=1d,P1=2d", wantErr: `priority "P1" is listed twice`},
		{in: ",,", wantErr: `no priority=days pair`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := config.ParseSLA(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSLA(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSLA(%q): %v", tt.in, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseSLA(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("ParseSLA(%q)[%s] = %v, want %v", tt.in, k, got[k], v)
				}
			}
		})
	}
}

func TestLoadSLAAndReminderErrors(t *testing.T) {
	tests := []struct {
		env  []string
		want string
	}{
		{[]string{"COESYNC_ACTION_SLA", "P1=fortnight"}, `COESYNC_ACTION_SLA: P1: want a duration such as 14d, 2w or 36h, got "fortnight"`},
		{[]string{"COESYNC_REMINDER_INTERVAL", "5m"}, `COESYNC_REMINDER_INTERVAL: want at least 1h, got 5m0s`},
	}
	for _, tt := range tests {
		t.Run(tt.env[0], func(t *testing.T) {
			setEnv(t, with(minimal(), tt.env...))
			_, err := config.Load()
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Load() error = %v, want %q", err, tt.want)
			}
		})
	}
	setEnv(t, with(minimal(), "COESYNC_ACTION_SLA", "P1=14d,default=45d"))
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.SLA()["P1"]; got != 14*24*time.Hour {
		t.Errorf("SLA()[P1] = %v", got)
	}
	if cfg.ReminderInterval != 168*time.Hour {
		t.Errorf("ReminderInterval default = %v, want 168h", cfg.ReminderInterval)
	}
}
