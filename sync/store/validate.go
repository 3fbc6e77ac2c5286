package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrUnstorable marks a delivery that can never be stored as it is: a
// retry would fail again, so the sender gets a 400 (PagerDuty drops a
// delivery on a 4xx and retries a 5xx for hours).
var ErrUnstorable = errors.New("unstorable delivery")

// MaxDeliveryIDLen bounds a delivery id in bytes. The ids senders set are
// far shorter: a UUID (GitHub, PagerDuty) or a number (Jira).
const MaxDeliveryIDLen = 200

// maxDeliveryText bounds the other short texts of a delivery (event type,
// resource id): GitHub's X-GitHub-Event header, which its signature does
// not cover, becomes part of the event type.
const maxDeliveryText = 512

// CheckDelivery reports, wrapping ErrUnstorable, why d cannot be stored and
// told apart from other deliveries; nil when it can. The texts go to
// PostgreSQL text columns and River's jsonb arguments, which refuse NUL and
// invalid UTF-8; an id is the deduplication key, so it must also be one a
// decoder did not rewrite: JSON decoders turn invalid bytes and lone
// surrogate escapes into U+FFFD, which made "evt-\xff" and "evt-\xfe" one id.
// The body is JSON, which is UTF-8 (RFC 8259) for the same reason; its
// NULs are harmless (bytea and BLOB), the texts decoded from it are checked.
// The messages name the field and the problem, never the value.
func CheckDelivery(d Delivery) error {
	if d.ID == "" {
		return fmt.Errorf("%w: empty delivery id", ErrUnstorable)
	}
	if len(d.ID) > MaxDeliveryIDLen {
		return fmt.Errorf("%w: delivery id is longer than %d bytes", ErrUnstorable, MaxDeliveryIDLen)
	}
	if err := checkText("delivery id", d.ID); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"source", d.Source}, {"event type", d.EventType}, {"resource id", d.ResourceID}} {
		if len(f.v) > maxDeliveryText {
			return fmt.Errorf("%w: %s is longer than %d bytes", ErrUnstorable, f.name, maxDeliveryText)
		}
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	if !utf8.Valid(d.Body) {
		return fmt.Errorf("%w: body is not valid UTF-8", ErrUnstorable)
	}
	for _, j := range d.Jobs {
		// River keeps job arguments in jsonb, which refuses \u0000: such
		// a job would fail every dispatch of the deliveries around it.
		args, err := json.Marshal(j.Args)
		if err != nil {
			return fmt.Errorf("%w: encode %s job: %w", ErrUnstorable, j.Args.Kind(), err)
		}
		if hasNULEscape(args) {
			return fmt.Errorf("%w: %s job argument holds NUL", ErrUnstorable, j.Args.Kind())
		}
	}
	return nil
}

// hasNULEscape reports whether JSON text holds the escape \u0000 (not an
// escaped backslash followed by "u0000").
func hasNULEscape(b []byte) bool {
	for i := 0; ; {
		k := bytes.Index(b[i:], []byte(`\u0000`))
		if k < 0 {
			return false
		}
		k += i
		n := 0 // backslashes before this one
		for j := k - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
		i = k + 1
	}
}

// checkText refuses invalid UTF-8, C0 controls and DEL (no sender puts
// them in an id or a type, and NUL is refused by PostgreSQL), and U+FFFD
// (what a decoder leaves of bytes it could not read).
func checkText(name, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrUnstorable, name)
	}
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("%w: %s holds a control character", ErrUnstorable, name)
		case r == utf8.RuneError:
			return fmt.Errorf("%w: %s holds U+FFFD (invalid UTF-8 or a lone surrogate escape)", ErrUnstorable, name)
		}
	}
	return nil
}

// unstorableError is a database's refusal of the data itself: retrying the
// same data fails the same way.
type unstorableError struct {
	code  string
	cause error
}

func (e *unstorableError) Error() string {
	return fmt.Sprintf("%s: the database refuses its data (SQLSTATE %s)", ErrUnstorable, e.code)
}

func (e *unstorableError) Is(target error) bool { return target == ErrUnstorable }
func (e *unstorableError) Unwrap() error        { return e.cause }

// classifyPg marks PostgreSQL's refusals of the data (class 22, data
// exception: invalid byte sequence, \u0000 in jsonb, value too long; and
// 54000, an index row too large) as ErrUnstorable. Anything else (a lost
// connection, a full disk, a timeout) may pass on a retry and is left as
// it is.
func classifyPg(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	if code := pe.SQLState(); strings.HasPrefix(code, "22") || code == "54000" {
		return &unstorableError{code: code, cause: err}
	}
	return err
}
