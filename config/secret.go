package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// redacted is what every printed form of a non-empty secret shows.
const redacted = "[redacted]"

// Secret is a credential read from the environment. Every way of printing
// it (String, GoString, every fmt verb, JSON, text, slog) shows
// "[redacted]", or nothing when it is empty, so a Config can be logged or
// dumped whole. Reveal returns the value for the one place that sends it.
// (One hole no method can close: encoding/json writes a string-kinded map
// key as is, so never key a map by a Secret.)
type Secret string

// Reveal returns the secret's value. Call it only where the value leaves
// the process (an Authorization header, an HMAC key).
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

func (s Secret) shown() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String implements fmt.Stringer.
func (s Secret) String() string { return s.shown() }

// GoString implements fmt.GoStringer (%#v).
func (s Secret) GoString() string {
	if s == "" {
		return `""`
	}
	return redacted
}

// Format implements fmt.Formatter so that no verb (%x, %q, %d, ...) can
// reach the underlying string.
func (s Secret) Format(f fmt.State, verb rune) { formatShown(f, verb, s.shown(), s.GoString()) }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.shown() + `"`), nil }

// MarshalText implements encoding.TextMarshaler (and so YAML and slog's
// text handler).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }

// Decode implements envconfig.Decoder. Surrounding white space is dropped:
// a trailing newline from a mounted secret file is never part of a token.
func (s *Secret) Decode(value string) error {
	*s = Secret(strings.TrimSpace(value))
	return nil
}

// Secrets is a list of secrets, read from a comma-separated variable.
// Several webhook signing secrets let one be rotated without downtime.
type Secrets []Secret

// Decode implements envconfig.Decoder: the value is split on commas, each
// part trimmed, and empty parts dropped.
func (s *Secrets) Decode(value string) error {
	var out Secrets
	for part := range strings.SplitSeq(value, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, Secret(p))
		}
	}
	*s = out
	return nil
}

// Reveal returns the secrets' values.
func (s Secrets) Reveal() []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = v.Reveal()
	}
	return out
}

// DSN is a database URL or path. It prints with any password replaced by
// "xxxxx" (postgres://coesync:xxxxx@db/coesync), because a PostgreSQL URL
// often carries one; Database returns the real value.
type DSN string

// Redacted returns the DSN with the password in its user info and in a
// password query parameter replaced by "xxxxx". A path is returned as is.
func (d DSN) Redacted() string {
	s := string(d)
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		// Unparsable: the password cannot be located, so show nothing
		// after the scheme.
		if i := strings.Index(s, "://"); i >= 0 {
			return s[:i+3] + redacted
		}
		return redacted
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// String implements fmt.Stringer.
func (d DSN) String() string { return d.Redacted() }

// GoString implements fmt.GoStringer (%#v).
func (d DSN) GoString() string { return fmt.Sprintf("%q", d.Redacted()) }

// Format implements fmt.Formatter.
func (d DSN) Format(f fmt.State, verb rune) { formatShown(f, verb, d.Redacted(), d.GoString()) }

// MarshalText implements encoding.TextMarshaler.
func (d DSN) MarshalText() ([]byte, error) { return []byte(d.Redacted()), nil }

// LogValue implements slog.LogValuer.
func (d DSN) LogValue() slog.Value { return slog.StringValue(d.Redacted()) }

// formatShown prints shown for every verb, keeping width and flags: %q
// quotes it and %#v prints goString.
func formatShown(f fmt.State, verb rune, shown, goString string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, goString)
	case verb == 'q':
		fmt.Fprintf(f, fmt.FormatString(f, 'q'), shown)
	default:
		fmt.Fprintf(f, fmt.FormatString(f, 's'), shown)
	}
}
