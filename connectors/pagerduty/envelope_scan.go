package pagerduty

import "bytes"

// scanEnvelope reads the routing fields of a webhook body in one pass that
// also checks the whole body is JSON. encoding/json spent 15% of the CPU of
// the ingest benchmark on this (it validates the body, then decodes it with
// reflection, skipping the large incident object twice).
//
// ok is false whenever the body is not of the plain shape this handles, and
// the caller then asks encoding/json: a body that is not JSON, a nesting
// deeper than maxScanDepth, a key of the envelope written with escapes, in
// another case or twice, a field of the envelope that is not a string of
// printable ASCII without escapes (occurred_at is handed to time.Time's own
// decoder), an envelope object that is null or not an object. So ok=true
// promises only what encoding/json would also return.
func scanEnvelope(body []byte) (env envelope, ok bool) {
	s := scanner{b: body}
	s.ws()
	if !s.object(0, s.topKey(&env)) {
		return envelope{}, false
	}
	s.ws()
	if s.i != len(s.b) || s.bad {
		return envelope{}, false
	}
	return env, true
}

// maxScanDepth bounds the nesting scanEnvelope follows (the recursion).
const maxScanDepth = 64

type scanner struct {
	b   []byte
	i   int
	bad bool // a field of the envelope is not of the plain shape
}

// fieldFunc handles the value of a key inside an object: it reports false
// if the JSON is invalid; a field it cannot take sets s.bad.
type fieldFunc func(key []byte, depth int) bool

// claim checks a key against the envelope's names of this object: it
// returns the matching name ("" for an unrelated key) and sets s.bad for a
// key encoding/json would match another way (case folding) or a repeat.
func (s *scanner) claim(key []byte, names []string, seen *uint8) string {
	if bytes.IndexByte(key, '\\') >= 0 {
		s.bad = true // an escaped key may spell one of the names
		return ""
	}
	for n, name := range names {
		if string(key) == name {
			if *seen&(1<<n) != 0 {
				s.bad = true
			}
			*seen |= 1 << n
			return name
		}
		if bytes.EqualFold(key, []byte(name)) {
			s.bad = true
		}
	}
	return ""
}

func (s *scanner) topKey(env *envelope) fieldFunc {
	var seen uint8
	return func(key []byte, depth int) bool {
		if s.claim(key, []string{"event"}, &seen) == "" {
			return s.value(depth)
		}
		env.Event = &envelopeEvent{}
		return s.object(depth, s.eventKey(env.Event))
	}
}

func (s *scanner) eventKey(ev *envelopeEvent) fieldFunc {
	var seen uint8
	return func(key []byte, depth int) bool {
		switch s.claim(key, []string{"id", "event_type", "occurred_at", "data"}, &seen) {
		case "id":
			return s.plainString(&ev.ID)
		case "event_type":
			return s.plainString(&ev.EventType)
		case "occurred_at":
			start := s.i
			var v string
			if !s.plainString(&v) {
				return false
			}
			if !s.bad && ev.OccurredAt.UnmarshalJSON(s.b[start:s.i]) != nil {
				s.bad = true
			}
			return true
		case "data":
			return s.object(depth, s.dataKey(&ev.Data))
		}
		return s.value(depth)
	}
}

func (s *scanner) dataKey(d *envelopeData) fieldFunc {
	var seen uint8
	return func(key []byte, depth int) bool {
		switch s.claim(key, []string{"id", "type", "incident"}, &seen) {
		case "id":
			return s.plainString(&d.ID)
		case "type":
			return s.plainString(&d.Type)
		case "incident":
			d.Incident = &envelopeIncident{}
			var seenID uint8
			return s.object(depth, func(key []byte, depth int) bool {
				if s.claim(key, []string{"id"}, &seenID) == "" {
					return s.value(depth)
				}
				return s.plainString(&d.Incident.ID)
			})
		}
		return s.value(depth)
	}
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object reads an object, giving each key's value to field. A value that
// is not an object where one of the envelope's is expected sets s.bad.
func (s *scanner) object(depth int, field fieldFunc) bool {
	if depth >= maxScanDepth {
		s.bad = true
		return false
	}
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		s.bad = true // null, or another type: encoding/json decides
		return s.value(depth)
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		s.ws()
		start := s.i
		if !s.string() {
			return false
		}
		key := s.b[start+1 : s.i-1]
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		if !field(key, depth+1) {
			return false
		}
		if more, ok := s.after('}'); !more {
			return ok
		}
	}
}

// after reads what follows an element of an object or array: a comma
// (more to come), or the closing byte (ok, the end), or else invalid JSON.
func (s *scanner) after(closing byte) (more, ok bool) {
	s.ws()
	if s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		return true, true
	case closing:
		s.i++
		return false, true
	}
	return false, false
}

func (s *scanner) array(depth int) bool {
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		s.ws()
		if !s.value(depth + 1) {
			return false
		}
		if more, ok := s.after(']'); !more {
			return ok
		}
	}
}

// value skips any JSON value, checking it.
func (s *scanner) value(depth int) bool {
	if depth >= maxScanDepth {
		s.bad = true
		return false
	}
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth, func(_ []byte, depth int) bool { return s.value(depth) })
	case c == '[':
		return s.array(depth)
	case c == '"':
		return s.string()
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
				s.i += len(lit)
				return true
			}
		}
		return false
	}
}

// string skips a string, checking its escapes and that it holds no
// control character (bytes of 0x80 and above are left to encoding/json's
// leniency: it accepts them and replaces invalid UTF-8 when decoding).
func (s *scanner) string() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if s.i+5 > len(s.b) {
					return false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				s.i += 5
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			s.i++
		}
	}
	return false
}

// plainString reads a string of the envelope into v. A value that is not
// a string of printable ASCII without escapes sets s.bad (encoding/json
// decides: null keeps v, other types fail, escapes are decoded).
func (s *scanner) plainString(v *string) bool {
	start := s.i
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		s.bad = true
		return s.value(0)
	}
	if !s.string() {
		return false
	}
	raw := s.b[start+1 : s.i-1]
	for _, c := range raw {
		if c == '\\' || c >= 0x7f {
			s.bad = true
			return true
		}
	}
	*v = string(raw)
	return true
}

// number skips a number as JSON spells it.
func (s *scanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits skips one or more digits.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
