package config_test

import (
	"fmt"
	"testing"

	"github.com/coesync/coesync/config"
)

func TestTrustedLinkDomains(t *testing.T) {
	setEnv(t, with(minimal(), "COESYNC_TRUSTED_LINK_DOMAINS", " grafana.acme.com, ,*.acme.zoom.us ,acme.slack.com"))
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cfg.TrustedLinkDomains); got != "[grafana.acme.com *.acme.zoom.us acme.slack.com]" {
		t.Errorf("TrustedLinkDomains = %s", got)
	}

	setEnv(t, minimal())
	if cfg, err := config.Load(); err != nil || len(cfg.TrustedLinkDomains) != 0 {
		t.Errorf("unset: %v, %v; want no trusted domain", cfg.TrustedLinkDomains, err)
	}

	for _, tt := range []struct{ in, want string }{
		{"https://grafana.acme.com", `COESYNC_TRUSTED_LINK_DOMAINS: want a domain such as grafana.acme.com, not a URL: "https://grafana.acme.com"`},
		{"grafana.acme.com/d", `COESYNC_TRUSTED_LINK_DOMAINS: want a domain such as grafana.acme.com, not a URL: "grafana.acme.com/d"`},
		{"com", `COESYNC_TRUSTED_LINK_DOMAINS: want a domain with at least two labels such as acme.com, got "com"`},
		{"*", `COESYNC_TRUSTED_LINK_DOMAINS: want a domain with at least two labels such as acme.com, got "*"`},
		{"acme_corp.com", `COESYNC_TRUSTED_LINK_DOMAINS: not a domain name: "acme_corp.com"`},
	} {
		t.Run(tt.in, func(t *testing.T) {
			setEnv(t, with(minimal(), "COESYNC_TRUSTED_LINK_DOMAINS", tt.in))
			if _, err := config.Load(); err == nil || err.Error() != tt.want {
				t.Errorf("Load() error = %v, want %q", err, tt.want)
			}
		})
	}
}
