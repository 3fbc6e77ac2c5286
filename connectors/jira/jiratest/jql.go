package jiratest

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The JQL the fake understands: clauses joined by AND, then an optional
// ORDER BY.
//
//	labels = "x"                    (also labels = x)
//	project = KEY
//	parent = KEY
//	key = KEY                       (also id = 10001)
//	key in (KEY, KEY, ...)          (also id in (...))
//	status = "In Progress"
//	issuetype = Sub-task
//	updated >= "yyyy/MM/dd HH:mm"   (also created; >, >=, <, <=, =; yyyy-MM-dd forms)
//	ORDER BY created|updated|key [ASC|DESC] {, ...}
//
// Anything else is answered 400 "Error in the JQL Query: ...", as Jira does
// for invalid JQL. Without ORDER BY, issues come in creation order.

type jqlQuery struct {
	conds []jqlCond
	order []jqlOrder
}

type jqlCond struct {
	field  string // lower case
	op     string
	value  string
	values []string  // for "in"
	at     time.Time // for date fields
}

type jqlOrder struct {
	field string
	desc  bool
}

type tokKind int

const (
	tokWord tokKind = iota
	tokString
	tokOp
	tokComma
	tokParen
)

type token struct {
	kind tokKind
	text string
	pos  int // 1-based character position
}

var errJQL = errors.New("Error in the JQL Query")

func jqlError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errJQL, fmt.Sprintf(format, args...))
}

func lexJQL(q string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(q) {
		c := q[i]
		pos := utf8.RuneCountInString(q[:i]) + 1
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			s, n, err := unquote(q[i:])
			if err != nil {
				return nil, jqlError("%s (line 1, character %d)", err, pos)
			}
			toks = append(toks, token{tokString, s, pos})
			i += n
		case c == ',':
			toks = append(toks, token{tokComma, ",", pos})
			i++
		case c == '(' || c == ')':
			toks = append(toks, token{tokParen, string(c), pos})
			i++
		case strings.ContainsRune("=!<>~", rune(c)):
			j := i + 1
			if j < len(q) && q[j] == '=' || (c == '!' && j < len(q) && q[j] == '~') {
				j++
			}
			toks = append(toks, token{tokOp, q[i:j], pos})
			i = j
		default:
			j := i
			for j < len(q) && !strings.ContainsRune(" \t\r\n\"',()=!<>~", rune(q[j])) {
				j++
			}
			toks = append(toks, token{tokWord, q[i:j], pos})
			i = j
		}
	}
	return toks, nil
}

// unquote reads a JQL string literal at the start of s and returns its value
// and length.
func unquote(s string) (string, int, error) {
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote:
			return b.String(), i + 1, nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", 0, errors.New("unterminated escape")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				if i+4 >= len(s) {
					return "", 0, errors.New("bad unicode escape")
				}
				n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
				if err != nil {
					return "", 0, errors.New("bad unicode escape")
				}
				b.WriteRune(rune(n))
				i += 4
			case '"', '\'', '\\', ' ':
				b.WriteByte(s[i])
			default:
				return "", 0, fmt.Errorf("'\\%c' is an illegal JQL escape sequence", s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("missing closing quote")
}

var jqlFields = map[string][]string{
	"labels":    {"="},
	"project":   {"="},
	"parent":    {"="},
	"key":       {"=", "in"},
	"id":        {"=", "in"},
	"status":    {"="},
	"issuetype": {"="},
	"updated":   {"=", ">", ">=", "<", "<="},
	"created":   {"=", ">", ">=", "<", "<="},
}

var orderFields = map[string]bool{"created": true, "updated": true, "key": true}

func parseJQL(q string, loc *time.Location) (*jqlQuery, error) {
	toks, err := lexJQL(q)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errUnbounded
	}
	p := &jqlQuery{}
	i := 0
	isWord := func(j int, w string) bool {
		return j < len(toks) && toks[j].kind == tokWord && strings.EqualFold(toks[j].text, w)
	}
	for i < len(toks) && !isWord(i, "order") {
		if len(p.conds) > 0 {
			if !isWord(i, "and") {
				return nil, jqlError("expecting AND or ORDER BY but got '%s'; jiratest supports only clauses joined by AND (line 1, character %d)", toks[i].text, toks[i].pos)
			}
			i++
		}
		if i >= len(toks) || (toks[i].kind != tokWord && toks[i].kind != tokString) {
			return nil, jqlError("expecting a field name (line 1, character %d)", posAt(toks, i, q))
		}
		field := strings.ToLower(toks[i].text)
		ops, ok := jqlFields[field]
		if !ok {
			return nil, jqlError("field '%s' is not supported by jiratest (line 1, character %d)", toks[i].text, toks[i].pos)
		}
		i++
		if isWord(i, "in") && contains(ops, "in") {
			c, n, err := parseInList(field, toks[i+1:], q)
			if err != nil {
				return nil, err
			}
			p.conds = append(p.conds, c)
			i += 1 + n
			continue
		}
		if i >= len(toks) || toks[i].kind != tokOp {
			return nil, jqlError("expecting operator after '%s' (line 1, character %d)", field, posAt(toks, i, q))
		}
		op := toks[i].text
		if !contains(ops, op) {
			return nil, jqlError("the operator '%s' is not supported by jiratest for field '%s' (line 1, character %d)", op, field, toks[i].pos)
		}
		i++
		if i >= len(toks) || (toks[i].kind != tokWord && toks[i].kind != tokString) {
			return nil, jqlError("expecting a value after '%s %s' (line 1, character %d)", field, op, posAt(toks, i, q))
		}
		c := jqlCond{field: field, op: op, value: toks[i].text}
		if toks[i].kind == tokWord && isReserved(c.value) {
			return nil, jqlError("'%s' is a reserved JQL word; quote it (line 1, character %d)", c.value, toks[i].pos)
		}
		if field == "updated" || field == "created" {
			t, err := parseJQLDate(c.value, loc)
			if err != nil {
				return nil, jqlError("Date value '%s' for field '%s' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'.", c.value, field)
			}
			c.at = t
		}
		p.conds = append(p.conds, c)
		i++
	}
	if i < len(toks) {
		if !isWord(i+1, "by") {
			return nil, jqlError("expecting 'BY' after 'ORDER' (line 1, character %d)", posAt(toks, i+1, q))
		}
		i += 2
		for {
			if i >= len(toks) || toks[i].kind != tokWord {
				return nil, jqlError("expecting a field name after ORDER BY (line 1, character %d)", posAt(toks, i, q))
			}
			f := strings.ToLower(toks[i].text)
			if !orderFields[f] {
				return nil, jqlError("jiratest cannot order by '%s'", toks[i].text)
			}
			o := jqlOrder{field: f}
			i++
			if isWord(i, "asc") {
				i++
			} else if isWord(i, "desc") {
				o.desc = true
				i++
			}
			p.order = append(p.order, o)
			if i >= len(toks) {
				break
			}
			if toks[i].kind != tokComma {
				return nil, jqlError("unexpected '%s' after ORDER BY (line 1, character %d)", toks[i].text, toks[i].pos)
			}
			i++
		}
	}
	if len(p.conds) == 0 {
		return nil, errUnbounded
	}
	return p, nil
}

// parseInList reads "(v, v, ...)" after "field in" and returns the condition
// and how many tokens it took.
func parseInList(field string, toks []token, q string) (jqlCond, int, error) {
	c := jqlCond{field: field, op: "in"}
	if len(toks) == 0 || toks[0].kind != tokParen || toks[0].text != "(" {
		return c, 0, jqlError("expecting '(' after '%s in' (line 1, character %d)", field, posAt(toks, 0, q))
	}
	i := 1
	for {
		if i >= len(toks) || (toks[i].kind != tokWord && toks[i].kind != tokString) {
			return c, 0, jqlError("expecting a value in the list after '%s in' (line 1, character %d)", field, posAt(toks, i, q))
		}
		c.values = append(c.values, toks[i].text)
		i++
		if i < len(toks) && toks[i].kind == tokComma {
			i++
			continue
		}
		if i < len(toks) && toks[i].kind == tokParen && toks[i].text == ")" {
			return c, i + 1, nil
		}
		return c, 0, jqlError("expecting ',' or ')' in the list after '%s in' (line 1, character %d)", field, posAt(toks, i, q))
	}
}

// condValues are the values a key or id condition names.
func (c jqlCond) condValues() []string {
	if c.op == "in" {
		return c.values
	}
	return []string{c.value}
}

var errUnbounded = errors.New("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")

func posAt(toks []token, i int, q string) int {
	if i < len(toks) {
		return toks[i].pos
	}
	return utf8.RuneCountInString(q) + 1
}

func isReserved(w string) bool {
	switch strings.ToLower(w) {
	case "and", "or", "not", "order", "by", "in", "is", "empty", "null", "was", "changed":
		return true
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

var jqlDateLayouts = []string{"2006/01/02 15:04", "2006-01-02 15:04", "2006/01/02", "2006-01-02"}

func parseJQLDate(v string, loc *time.Location) (time.Time, error) {
	for _, l := range jqlDateLayouts {
		if t, err := time.ParseInLocation(l, strings.TrimSpace(v), loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("bad date")
}

// check reports references to things that do not exist, as Jira does:
// an unknown project or parent is a 400, an unknown label is not. s.mu held.
func (s *Server) checkJQL(q *jqlQuery) error {
	for _, c := range q.conds {
		switch c.field {
		case "project":
			if s.projectByRef(c.value) == nil {
				return jqlError("The value '%s' does not exist for the field 'project'.", c.value)
			}
		case "parent", "key", "id":
			for _, v := range c.condValues() {
				if s.lookup(v) == nil {
					return jqlError("An issue with key '%s' does not exist for field '%s'.", v, c.field)
				}
			}
		}
	}
	return nil
}

func (q *jqlQuery) match(s *Server, is *Issue) bool {
	for _, c := range q.conds {
		ok := false
		switch c.field {
		case "labels":
			ok = contains(is.Labels, c.value)
		case "project":
			p := s.projectByRef(c.value)
			ok = p != nil && p.Key == is.Project
		case "parent":
			p := s.lookup(c.value)
			ok = p != nil && is.Parent == p.Key
		case "key", "id":
			for _, v := range c.condValues() {
				if p := s.lookup(v); p != nil && p.Key == is.Key {
					ok = true
				}
			}
		case "status":
			ok = strings.EqualFold(is.Status, c.value)
		case "issuetype":
			ok = strings.EqualFold(is.IssueType, c.value)
		case "updated", "created":
			t := is.Updated
			if c.field == "created" {
				t = is.Created
			}
			// JQL compares at minute precision.
			t = t.Truncate(time.Minute)
			switch c.op {
			case "=":
				ok = t.Equal(c.at)
			case ">":
				ok = t.After(c.at)
			case ">=":
				ok = !t.Before(c.at)
			case "<":
				ok = t.Before(c.at)
			case "<=":
				ok = !t.After(c.at)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (q *jqlQuery) sort(issues []*Issue) {
	if len(q.order) == 0 {
		return
	}
	sort.SliceStable(issues, func(a, b int) bool {
		x, y := issues[a], issues[b]
		for _, o := range q.order {
			c := 0
			switch o.field {
			case "created":
				c = x.Created.Compare(y.Created)
			case "updated":
				c = x.Updated.Compare(y.Updated)
			case "key":
				c = compareKeys(x.Key, y.Key)
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
}

func compareKeys(a, b string) int {
	pa, na := splitKey(a)
	pb, nb := splitKey(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	switch {
	case na < nb:
		return -1
	case na > nb:
		return 1
	}
	return 0
}

func splitKey(k string) (string, int) {
	i := strings.LastIndexByte(k, '-')
	if i < 0 {
		return k, 0
	}
	n, _ := strconv.Atoi(k[i+1:])
	return k[:i], n
}
