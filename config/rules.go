package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/coesync/coesync/sync/coe"
)

// Rules are the routing rules from a YAML file (COESYNC_RULES_FILE). The
// first rule whose matchers all hold decides where an incident's COE goes;
// see testdata/rules.example.yaml for the schema. A nil *Rules has no rules.
type Rules struct {
	name     string // file name, for messages
	rules    []rule
	services []serviceRepos
}

// serviceRepos is one entry of the services section: the GitHub
// repositories whose changes a COE of these services lists.
type serviceRepos struct {
	services []string // service ID or name
	repos    []string // owner/name
	line     int
}

// MaxServiceRepos bounds the repositories of one services entry: each costs
// a few GitHub requests per COE.
const MaxServiceRepos = 10

// ChangeRepos returns the repositories of every services entry that names
// inc's service (by ID or name, case-insensitively), in file order, each
// once.
func (r *Rules) ChangeRepos(inc coe.Incident) []string {
	if r == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range r.services {
		if !anyFold(e.services, inc.ServiceID, inc.ServiceName) {
			continue
		}
		for _, repo := range e.repos {
			if k := strings.ToLower(repo); !seen[k] {
				seen[k] = true
				out = append(out, repo)
			}
		}
	}
	return out
}

type rule struct {
	name string // as written; may be empty
	id   string // name, or "rule N" when unnamed: coe.Route.Rule
	line int

	// Matchers; nil (zero) means any.
	services    []string // service ID or name
	teams       []string // team ID or name
	priorities  []string // PagerDuty priority name
	urgencies   []string // high, low
	minDuration time.Duration

	skip bool

	project    string
	issueType  string
	labels     []string
	labelsSet  bool // labels: [] clears the default's labels
	components []string
	compsSet   bool
	priority   map[string]string // lower-cased PagerDuty priority or urgency -> Jira priority

	repo     string
	repoLine int
}

// label is how messages name the rule.
func (r *rule) label() string {
	if r.name == "" {
		return r.id
	}
	return "rule " + strconv.Quote(r.name)
}

func (r *rule) catchAll() bool {
	return r.services == nil && r.teams == nil && r.priorities == nil && r.urgencies == nil && r.minDuration == 0
}

func (r *rule) matches(inc coe.Incident) bool {
	if r.services != nil && !anyFold(r.services, inc.ServiceID, inc.ServiceName) {
		return false
	}
	if r.teams != nil && !slices.ContainsFunc(inc.Teams, func(t coe.Team) bool { return anyFold(r.teams, t.ID, t.Name) }) {
		return false
	}
	if r.priorities != nil && !anyFold(r.priorities, inc.Priority) {
		return false
	}
	if r.urgencies != nil && !anyFold(r.urgencies, inc.Urgency) {
		return false
	}
	if r.minDuration > 0 && inc.Duration() < r.minDuration {
		return false
	}
	return true
}

// anyFold reports whether one of want equals one of the non-empty have,
// ignoring case.
func anyFold(want []string, have ...string) bool {
	for _, h := range have {
		if h == "" {
			continue
		}
		for _, w := range want {
			if strings.EqualFold(w, strings.TrimSpace(h)) {
				return true
			}
		}
	}
	return false
}

// defaultByPriority and defaultByUrgency map a PagerDuty priority, then
// urgency, to a Jira priority when no rule maps them.
var (
	defaultByPriority = map[string]string{"p1": "Highest", "p2": "High", "p3": "Medium", "p4": "Low", "p5": "Lowest"}
	defaultByUrgency  = map[string]string{"high": "High", "low": "Low"}
)

// Route decides where inc's COE goes. The first rule whose matchers all
// hold decides; what it does not set comes from def, and with no matching
// rule the route is def. The Jira priority is, in order: the rule's
// mapping of the incident's PagerDuty priority, then of its urgency;
// def.Priority; the default mapping (P1 Highest, P2 High, P3 Medium, P4
// Low, P5 Lowest) of its priority; then of its urgency (high High, low
// Low), which also covers custom priority names the default does not know.
// The returned slices are the caller's to keep.
func (r *Rules) Route(inc coe.Incident, def coe.Route) coe.Route {
	out := def
	out.Labels = slices.Clone(def.Labels)
	out.Components = slices.Clone(def.Components)

	var m *rule
	if r != nil {
		for i := range r.rules {
			if r.rules[i].matches(inc) {
				m = &r.rules[i]
				break
			}
		}
	}
	if m != nil {
		out.Rule = m.id
		if m.skip {
			out.Skip = true
		}
		if m.project != "" {
			out.Project = m.project
		}
		if m.issueType != "" {
			out.IssueType = m.issueType
		}
		if m.labelsSet {
			out.Labels = slices.Clone(m.labels)
		}
		if m.compsSet {
			out.Components = slices.Clone(m.components)
		}
		if m.repo != "" {
			out.GitHubRepo = m.repo
		}
	}
	out.Priority = jiraPriority(inc, m, def.Priority)
	out.ChangeRepos = r.ChangeRepos(inc)
	return out
}

func jiraPriority(inc coe.Incident, m *rule, def string) string {
	prio := strings.ToLower(strings.TrimSpace(inc.Priority))
	urg := strings.ToLower(strings.TrimSpace(inc.Urgency))
	if m != nil && m.priority != nil {
		if p, ok := m.priority[prio]; ok && prio != "" {
			return p
		}
		if p, ok := m.priority[urg]; ok && urg != "" {
			return p
		}
	}
	if def != "" {
		return def
	}
	if p, ok := defaultByPriority[prio]; ok {
		return p
	}
	return defaultByUrgency[urg]
}

// Len returns the number of rules.
func (r *Rules) Len() int {
	if r == nil {
		return 0
	}
	return len(r.rules)
}

// projectGap explains why the rules might leave an incident without a
// Jira project ("" when they cannot): a rule that neither skips nor sets
// jira.project before the first catch-all, or no catch-all.
func (r *Rules) projectGap() string {
	for i := range r.rules {
		ru := &r.rules[i]
		if !ru.skip && ru.project == "" {
			return fmt.Sprintf("%s:%d: %s sets no jira.project", r.name, ru.line, ru.label())
		}
		if ru.catchAll() {
			return ""
		}
	}
	return fmt.Sprintf("%s has no final catch-all rule (one without match)", r.name)
}

// firstRepoLine returns the line of the first github.repo, or 0.
func (r *Rules) firstRepoLine() int {
	for i := range r.rules {
		if r.rules[i].repo != "" {
			return r.rules[i].repoLine
		}
	}
	return 0
}

// Router binds rules to a default route; it implements the engine's Router.
type Router struct {
	rules *Rules
	def   coe.Route
}

// NewRouter returns a Router for rules (which may be nil: every incident
// takes def, with the default priority mapping).
func NewRouter(rules *Rules, def coe.Route) *Router {
	def.Labels = slices.Clone(def.Labels)
	def.Components = slices.Clone(def.Components)
	return &Router{rules: rules, def: def}
}

// Route decides where inc's COE goes; see Rules.Route.
func (r *Router) Route(inc coe.Incident) coe.Route { return r.rules.Route(inc, r.def) }

// LoadRules reads and parses a rules file; see ParseRules.
func LoadRules(path string) (*Rules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRulesFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxRulesFile {
		return nil, fmt.Errorf("%s: larger than a rules file's %d bytes", path, maxRulesFile)
	}
	return ParseRules(path, data)
}

// maxRulesFile bounds what LoadRules reads: a rules file is a few KB.
const maxRulesFile = 1 << 20

// ParseRules parses a rules file. name is used in errors, which are one
// line each and name the line at fault: `rules.yaml:12: unknown key
// "servce"`. Every problem found is reported, joined one per line.
//
// Besides YAML syntax, it rejects unknown and duplicate keys, values of the
// wrong type, empty lists of matchers, bad durations and urgencies,
// repositories not in owner/name form, Jira labels with spaces, duplicate
// rule names, a rule that neither skips nor sets anything, a skipping rule
// that also sets jira or github, and rules after a catch-all (unreachable).
func ParseRules(name string, data []byte) (*Rules, error) {
	p := &rulesParser{name: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Rules{name: name}, nil
		}
		return nil, p.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		line := extra.Line
		if extra.Kind == yaml.DocumentNode && len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		return nil, fmt.Errorf("%s:%d: more than one YAML document", name, line)
	} else if !errors.Is(err, io.EOF) {
		return nil, p.yamlError(err)
	}

	rules := &Rules{name: name}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return rules, nil
		}
		root = root.Content[0]
	}
	root = deref(root)
	if isNull(root) {
		return rules, nil
	}
	if !looksLikeRules(root) {
		// Not a rules file (COESYNC_RULES_FILE pointing at another file):
		// say so without quoting any of it, since its lines may be secrets.
		return nil, fmt.Errorf("%s: not a coesync rules file: no rules or services key (the file's content is not shown)", name)
	}
	p.mapping(root, "", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "rules":
			rules.rules = p.rules(v)
		case "services":
			rules.services = p.services(v)
		default:
			return false
		}
		return true
	})
	if len(p.errs) == 0 {
		// Across rules; after an error in a rule this would be noise.
		p.check(rules.rules)
	}
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	return rules, nil
}

// services reads the services section: a list of entries, each naming
// services (match.service's form) and their repositories.
//
//	services:
//	  - service: [PXXXXXX, "Payments API"]
//	    repos: [acme/payments, acme/payments-web]
func (p *rulesParser) services(n *yaml.Node) []serviceRepos {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "services: want a list of entries with service and repos, got %s", describe(n))
		return nil
	}
	var out []serviceRepos
	first := map[string]int{} // lower-case service -> line of its entry
	for i, en := range n.Content {
		en = deref(en)
		where := "services[" + strconv.Itoa(i+1) + "]"
		if en.Kind != yaml.MappingNode {
			p.errorf(en, "%s: want a mapping with service and repos, got %s", where, describe(en))
			continue
		}
		e := serviceRepos{line: en.Line}
		var haveService, haveRepos bool
		p.mapping(en, where, func(key string, k, v *yaml.Node) bool {
			switch key {
			case "service":
				haveService = true
				e.services = p.matchList(v, where+".service")
				for _, sv := range e.services {
					lk := strings.ToLower(sv)
					if line, dup := first[lk]; dup {
						p.errorf(v, "%s.service: %q is already listed at line %d", where, sv, line)
						continue
					}
					first[lk] = v.Line
				}
			case "repos":
				haveRepos = true
				repos, ok := p.list(v, where+".repos")
				if !ok {
					break
				}
				if len(repos) == 0 {
					p.errorf(v, "%s.repos: empty list; remove the entry instead", where)
					break
				}
				if len(repos) > MaxServiceRepos {
					p.errorf(v, "%s.repos: %d repositories, at most %d (each costs GitHub requests per COE)", where, len(repos), MaxServiceRepos)
					break
				}
				for _, r := range repos {
					if !validRepo(r) {
						p.errorf(v, "%s.repos: want owner/name, got %q", where, r)
						continue
					}
					e.repos = append(e.repos, r)
				}
			default:
				return false
			}
			return true
		})
		if !haveService {
			p.errorf(en, "%s: service is required", where)
		}
		if !haveRepos {
			p.errorf(en, "%s: repos is required", where)
		}
		out = append(out, e)
	}
	return out
}

// firstChangeRepoLine returns the line of the first services entry, or 0.
func (r *Rules) firstChangeRepoLine() int {
	if r == nil || len(r.services) == 0 {
		return 0
	}
	return r.services[0].line
}

type rulesParser struct {
	name string
	errs []error
}

func (p *rulesParser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, errors.New(p.name+":"+strconv.Itoa(n.Line)+": "+fmt.Sprintf(format, args...)))
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError rewords a yaml.v3 syntax error as "name:line: problem".
func (p *rulesParser) yamlError(err error) error {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", p.name, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", p.name, strings.TrimPrefix(msg, "yaml: "))
}

// keyRE is what a key of the rules file looks like; an unknown key that
// does not is not quoted in errors (it may be a line of another file).
var keyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,39}$`)

// looksLikeRules reports whether a non-null root may be a rules file: it
// is not a mapping of keys none of which is one of the rules file's.
func looksLikeRules(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode || len(root.Content) == 0 {
		return true // mapping reports a non-mapping without its content
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := deref(root.Content[i]); k.Kind == yaml.ScalarNode && (k.Value == "rules" || k.Value == "services") {
			return true
		}
	}
	return false
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's type for "want X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "something else"
}

// mapping walks a mapping node, calling field for each key; field returns
// false for an unknown key. where qualifies messages about the mapping
// itself ("match", "jira"); it is empty at the top level.
func (p *rulesParser) mapping(n *yaml.Node, where string, field func(key string, k, v *yaml.Node) bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		if where == "" {
			p.errorf(n, "want a mapping with a rules key, got %s", describe(n))
		} else {
			p.errorf(n, "%s: want a mapping, got %s", where, describe(n))
		}
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "want a string key, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			p.errorf(k, "merge keys (<<) are not supported")
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(k, "duplicate key %q (first at line %d)", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		if !field(k.Value, k, v) {
			if keyRE.MatchString(k.Value) {
				p.errorf(k, "unknown key %q", k.Value)
			} else {
				p.errorf(k, "unknown key (not shown: not a name of letters, digits, '-' or '_')")
			}
		}
	}
}

func (p *rulesParser) rules(n *yaml.Node) []rule {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "rules: want a list of rules, got %s", describe(n))
		return nil
	}
	out := make([]rule, 0, len(n.Content))
	for i, rn := range n.Content {
		rn = deref(rn)
		if rn.Kind != yaml.MappingNode {
			p.errorf(rn, "rule %d: want a mapping, got %s", i+1, describe(rn))
			continue
		}
		out = append(out, p.rule(rn, i+1))
	}
	return out
}

func (p *rulesParser) rule(n *yaml.Node, index int) rule {
	r := rule{id: "rule " + strconv.Itoa(index), line: n.Line}
	var skipNode *yaml.Node
	errsBefore := len(p.errs)
	p.mapping(n, "", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "name":
			if s, ok := p.str(v, "name"); ok {
				r.name, r.id = s, s
			}
		case "match":
			p.match(v, &r)
		case "skip":
			skipNode = k
			r.skip, _ = p.boolean(v, "skip")
		case "jira":
			p.jira(v, &r)
		case "github":
			p.github(v, &r)
		default:
			return false
		}
		return true
	})
	setsJira := r.project != "" || r.issueType != "" || r.labelsSet || r.compsSet || r.priority != nil
	switch {
	case r.skip && setsJira:
		p.errorf(skipNode, "%s: skip: true conflicts with jira: a skipped incident gets no COE", r.label())
	case r.skip && r.repo != "":
		p.errorf(skipNode, "%s: skip: true conflicts with github: a skipped incident gets no COE", r.label())
	case !r.skip && !setsJira && r.repo == "" && len(p.errs) == errsBefore:
		// (After an error in the rule, this would only be noise.)
		p.errorf(n, "%s does nothing: set skip: true, jira or github", r.label())
	}
	return r
}

func (p *rulesParser) match(n *yaml.Node, r *rule) {
	if isNull(n) {
		return
	}
	p.mapping(n, "match", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "service":
			r.services = p.matchList(v, "match.service")
		case "team":
			r.teams = p.matchList(v, "match.team")
		case "priority":
			r.priorities = p.matchList(v, "match.priority")
		case "urgency":
			r.urgencies = []string{}
			for _, u := range p.matchList(v, "match.urgency") {
				if lu := strings.ToLower(u); lu == "high" || lu == "low" {
					r.urgencies = append(r.urgencies, lu)
				} else {
					p.errorf(v, "match.urgency: want high or low, got %q", u)
				}
			}
		case "min_duration":
			s, ok := p.str(v, "match.min_duration")
			if !ok {
				break
			}
			d, err := time.ParseDuration(s)
			switch {
			case err != nil:
				p.errorf(v, "match.min_duration: want a duration such as 10m or 1h30m, got %q", s)
			case d <= 0:
				p.errorf(v, "match.min_duration: want a positive duration, got %q", s)
			default:
				r.minDuration = d
			}
		default:
			return false
		}
		return true
	})
}

// hasSpace reports white space, which Jira labels cannot hold.
func hasSpace(s string) bool { return strings.IndexFunc(s, unicode.IsSpace) >= 0 }

func (p *rulesParser) jira(n *yaml.Node, r *rule) {
	if isNull(n) {
		return
	}
	p.mapping(n, "jira", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "project":
			r.project, _ = p.str(v, "jira.project")
		case "issue_type":
			r.issueType, _ = p.str(v, "jira.issue_type")
		case "labels":
			labels, ok := p.list(v, "jira.labels")
			for _, l := range labels {
				if hasSpace(l) {
					p.errorf(v, "jira.labels: %q contains white space, which Jira labels cannot", l)
					ok = false
				}
			}
			if ok {
				r.labels, r.labelsSet = labels, true
			}
		case "components":
			if comps, ok := p.list(v, "jira.components"); ok {
				r.components, r.compsSet = comps, true
			}
		case "priority":
			r.priority = p.priorityMap(v)
		default:
			return false
		}
		return true
	})
}

func (p *rulesParser) priorityMap(n *yaml.Node) map[string]string {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "jira.priority: want a mapping of PagerDuty priority or urgency to Jira priority, got %s", describe(n))
		return nil
	}
	m := map[string]string{}
	p.mapping(n, "jira.priority", func(key string, k, v *yaml.Node) bool {
		lk := strings.ToLower(strings.TrimSpace(key))
		if lk == "" {
			p.errorf(k, "jira.priority: empty key")
			return true
		}
		if _, dup := m[lk]; dup {
			p.errorf(k, "jira.priority: duplicate key %q", key)
			return true
		}
		if s, ok := p.str(v, "jira.priority."+key); ok {
			m[lk] = s
		}
		return true
	})
	return m
}

func (p *rulesParser) github(n *yaml.Node, r *rule) {
	if isNull(n) {
		return
	}
	p.mapping(n, "github", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "repo":
			s, ok := p.str(v, "github.repo")
			if !ok {
				break
			}
			if !validRepo(s) {
				p.errorf(v, "github.repo: want owner/name, got %q", s)
				break
			}
			r.repo, r.repoLine = s, v.Line
		default:
			return false
		}
		return true
	})
}

// boolean reads true or false.
func (p *rulesParser) boolean(n *yaml.Node, key string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		got := describe(n)
		if n.Kind == yaml.ScalarNode && !isNull(n) {
			got = strconv.Quote(n.Value)
		}
		p.errorf(n, "%s: want true or false, got %s", key, got)
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.errorf(n, "%s: want true or false, got %q", key, n.Value)
		return false, false
	}
	return b, true
}

// str reads a non-empty scalar. Numbers are taken as their text (a service
// may be named 2024); null, booleans, lists and mappings are errors.
func (p *rulesParser) str(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) || n.ShortTag() == "!!bool" {
		p.errorf(n, "%s: want a string, got %s", key, describe(n))
		return "", false
	}
	s := strings.TrimSpace(n.Value)
	if s == "" {
		p.errorf(n, "%s: want a non-empty string", key)
		return "", false
	}
	return s, true
}

// list reads a string or a list of strings; an empty list is allowed.
func (p *rulesParser) list(n *yaml.Node, key string) ([]string, bool) {
	if n.Kind == yaml.ScalarNode && !isNull(n) && n.ShortTag() != "!!bool" {
		s, ok := p.str(n, key)
		if !ok {
			return nil, false
		}
		return []string{s}, true
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: want a string or a list of strings, got %s", key, describe(n))
		return nil, false
	}
	out := []string{}
	ok := true
	for _, e := range n.Content {
		e = deref(e)
		if e.Kind != yaml.ScalarNode || isNull(e) || e.ShortTag() == "!!bool" {
			p.errorf(e, "%s: want a string or a list of strings, got a list holding %s", key, describe(e))
			ok = false
			continue
		}
		s, sok := p.str(e, key)
		if !sok {
			ok = false
			continue
		}
		out = append(out, s)
	}
	return out, ok
}

// matchList reads a matcher's values; an empty list would match nothing,
// so it is an error. On error it returns an empty non-nil list so that the
// rule does not turn into a catch-all.
func (p *rulesParser) matchList(n *yaml.Node, key string) []string {
	l, ok := p.list(n, key)
	if ok && len(l) == 0 {
		p.errorf(n, "%s: empty list matches nothing", key)
		ok = false
	}
	if !ok {
		return []string{}
	}
	return l
}

// check finds problems across rules: duplicate names, unreachable rules.
func (p *rulesParser) check(rules []rule) {
	names := map[string]int{}
	var catchAll *rule
	for i := range rules {
		r := &rules[i]
		if r.name != "" {
			key := strings.ToLower(r.name)
			if line, dup := names[key]; dup {
				p.errs = append(p.errs, fmt.Errorf("%s:%d: rule name %q already used at line %d", p.name, r.line, r.name, line))
			} else {
				names[key] = r.line
			}
		}
		if catchAll != nil {
			p.errs = append(p.errs, fmt.Errorf("%s:%d: %s is unreachable: %s at line %d matches every incident", p.name, r.line, r.label(), catchAll.label(), catchAll.line))
			continue
		}
		if r.catchAll() {
			catchAll = r
		}
	}
}
