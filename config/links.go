package config

import (
	"fmt"
	"strings"
)

// checkTrustedDomain validates one COESYNC_TRUSTED_LINK_DOMAINS entry: a
// host name such as "grafana.acme.com", optionally written "*.acme.com"
// (the same: a domain always covers its subdomains). A scheme, path, port
// or a single label ("com") is refused, so that a typo cannot trust every
// link.
func checkTrustedDomain(d string) error {
	host := strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(d), "*."), ".")
	if strings.Contains(host, "://") || strings.ContainsAny(host, "/:@?#[] ") {
		return fmt.Errorf("want a domain such as grafana.acme.com, not a URL: %s", quote(d))
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return fmt.Errorf("want a domain with at least two labels such as acme.com, got %s", quote(d))
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("not a domain name: %s", quote(d))
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("not a domain name: %s", quote(d))
			}
		}
	}
	return nil
}
