package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// node is a minimal DOM, enough for the checks a browser test would make.
type node struct {
	name     string
	attr     map[string]string
	children []*node
	parent   *node
	text     strings.Builder // text directly inside
}

// parseHTML reads the page with encoding/xml in its lenient HTML mode.
func parseHTML(t *testing.T, page string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &node{name: "#root"}
	cur := root
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page does not parse: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attr: map[string]string{}, parent: cur}
			for _, a := range tok.Attr {
				name := a.Name.Local
				if a.Name.Space != "" {
					name = a.Name.Space + ":" + name
				}
				n.attr[name] = a.Value
			}
			cur.children = append(cur.children, n)
			cur = n
		case xml.EndElement:
			for n := cur; n != nil; n = n.parent {
				if n.name == tok.Name.Local {
					cur = n.parent
					break
				}
			}
		case xml.CharData:
			cur.text.Write(tok)
		}
	}
	if cur != root {
		t.Fatalf("unclosed element <%s>", cur.name)
	}
	return root
}

func (n *node) all(f func(*node) bool) []*node {
	var out []*node
	var walk func(*node)
	walk = func(n *node) {
		for _, c := range n.children {
			if f(c) {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(n)
	return out
}

// textContent is the text of n and its descendants.
func (n *node) textContent() string {
	var b strings.Builder
	var walk func(*node)
	walk = func(n *node) {
		b.WriteString(n.text.String())
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func hasAttr(name, value string) func(*node) bool {
	return func(n *node) bool { v, ok := n.attr[name]; return ok && (value == "" || v == value) }
}

// checkInertHTML asserts that nothing in the page runs or loads.
func checkInertHTML(t *testing.T, doc *node) {
	t.Helper()
	for _, n := range doc.all(func(*node) bool { return true }) {
		switch strings.ToLower(n.name) {
		case "script", "iframe", "object", "embed", "img", "link", "form", "base", "foreignobject", "use", "image":
			t.Fatalf("page has a <%s> element", n.name)
		}
		for k, v := range n.attr {
			k = strings.ToLower(k)
			if strings.HasPrefix(k, "on") || k == "src" || k == "srcset" || k == "xlink:href" || k == "style" {
				t.Fatalf("<%s> has attribute %s=%q", n.name, k, v)
			}
			if k == "href" && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "#") {
				t.Fatalf("<%s> links to %q", n.name, v)
			}
		}
	}
}

func reportPage(t *testing.T, r Report) (string, *node) {
	t.Helper()
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String(), parseHTML(t, b.String())
}

func TestHTMLDocument(t *testing.T) {
	page, doc := reportPage(t, Build(seed(t)))
	checkInertHTML(t, doc)
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n<html lang=\"en\">") {
		t.Errorf("page starts %.40q", page)
	}
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'`,
		`overflow-x:auto`, `@media (max-width:560px)`, `prefers-color-scheme:dark`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Self-contained: nothing is fetched.
	for _, bad := range []string{"url(", "@import", "<script", "src="} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// Every table scrolls sideways on its own on a narrow screen.
	for _, tbl := range doc.all(func(n *node) bool { return n.name == "table" }) {
		if tbl.parent.attr["class"] != "scroll" {
			t.Errorf("table %s is not in a .scroll box", tbl.attr["data-table"])
		}
	}
	// Hostile text shows as text.
	cells := map[string]bool{}
	for _, td := range doc.all(func(n *node) bool { return n.name == "td" }) {
		cells[td.textContent()] = true
	}
	for _, s := range []string{"Checkout latency <script>alert(1)</script>", "Checkout 5xx again | ping @channel about #12", "bob | @channel", "<script>alert(1)</script>", "Runbook: <b>restart</b> pods"} {
		if !cells[s] {
			t.Errorf("no table cell reads %q", s)
		}
	}
	// OPS-104's URL is javascript: so its key is not a link.
	for _, a := range doc.all(func(n *node) bool { return n.name == "a" }) {
		if a.textContent() == "OPS-104" {
			t.Errorf("OPS-104 links to %q", a.attr["href"])
		}
	}
}

func TestHTMLMetrics(t *testing.T) {
	r := Build(seed(t))
	_, doc := reportPage(t, r)
	raw, _ := r.JSON()
	var j struct{ Summary map[string]any }
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"coes_created", "stale_drafts", "items_opened", "items_closed", "items_open", "items_overdue", "completion_rate", "median_days_to_close"} {
		els := doc.all(hasAttr("data-metric", name))
		if len(els) != 1 {
			t.Errorf("%d elements with data-metric=%s", len(els), name)
			continue
		}
		el := els[0]
		if el.attr["id"] != "metric-"+name {
			t.Errorf("metric %s has id %q", name, el.attr["id"])
		}
		v, err := strconv.ParseFloat(el.attr["data-value"], 64)
		if err != nil || v != j.Summary[name].(float64) {
			t.Errorf("metric %s: data-value %q, JSON %v", name, el.attr["data-value"], j.Summary[name])
		}
	}
	if got := doc.all(hasAttr("data-metric", "completion_rate"))[0].textContent(); got != "33%" {
		t.Errorf("completion rate shows %q", got)
	}
	v := doc.all(hasAttr("id", "verdict"))
	if len(v) != 1 || v[0].attr["data-verdict"] != Degraded {
		t.Fatalf("verdict banner: %v", v)
	}
	var reasons []string
	for _, li := range v[0].all(hasAttr("data-reason", "")) {
		reasons = append(reasons, li.attr["data-reason"])
	}
	if strings.Join(reasons, ",") != "webhooks_rejected_signature,jobs_failed,missing_transitions,item_problems" {
		t.Errorf("reasons %v", reasons)
	}
}

func TestHTMLCharts(t *testing.T) {
	r := Build(seed(t))
	_, doc := reportPage(t, r)
	charts := map[string]*node{}
	for _, svg := range doc.all(hasAttr("data-chart", "")) {
		if svg.name != "svg" || svg.attr["role"] != "img" || svg.attr["aria-label"] == "" || !strings.HasPrefix(svg.attr["viewBox"], "0 0 ") {
			t.Errorf("chart element %s %v", svg.name, svg.attr)
		}
		if svg.child("title") == nil || svg.child("title").textContent() == "" || svg.child("desc") == nil {
			t.Errorf("chart %s has no <title> or <desc>", svg.attr["data-chart"])
		}
		charts[svg.attr["data-chart"]] = svg
	}
	if len(charts) != 3 || charts["trend"] == nil || charts["coes"] == nil || charts["overdue"] == nil {
		t.Fatalf("charts: %v", charts)
	}
	values := func(svg *node, series string) []int {
		var out []int
		for _, bar := range svg.all(hasAttr("data-series", series)) {
			n, err := strconv.Atoi(bar.attr["data-value"])
			if err != nil || bar.name != "rect" || bar.child("title") == nil {
				t.Errorf("bar %v", bar.attr)
			}
			out = append(out, n)
		}
		return out
	}
	var open, closed, coes []int
	for _, w := range r.Trend {
		open, closed, coes = append(open, w.Open), append(closed, w.Closed), append(coes, w.COEs)
	}
	for _, c := range []struct {
		svg, series string
		want        []int
	}{{"trend", "open", open}, {"trend", "closed", closed}, {"coes", "coes", coes}, {"overdue", "overdue", []int{1, 1, 1, 1}}} {
		if got := values(charts[c.svg], c.series); !equalInts(got, c.want) {
			t.Errorf("%s/%s bars = %v, want %v", c.svg, c.series, got, c.want)
		}
	}
	var owners []string
	for _, bar := range charts["overdue"].all(hasAttr("data-series", "overdue")) {
		owners = append(owners, bar.attr["data-label"])
	}
	if strings.Join(owners, ",") != "erin,<script>alert(1)</script>,bob | @channel,frank" {
		t.Errorf("overdue owners %q", owners)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The overdue chart names seven owners and sums the rest.
func TestOverdueChartOthers(t *testing.T) {
	in := small(t)
	for i := range 10 {
		for range 10 - i {
			in.Items = append(in.Items, ActionItem{Key: "K", Owner: "owner" + itoa(i), Opened: in.Now.AddDate(0, -1, 0), Due: day(t, "2026-11-01")})
		}
	}
	var labels []string
	for _, b := range Build(in).charts()[2].Bars {
		labels = append(labels, b.Label+"="+itoa(b.Value))
	}
	want := "owner0=10,owner1=9,owner2=8,owner3=7,owner4=6,owner5=5,owner6=4,3 others=6"
	if strings.Join(labels, ",") != want {
		t.Errorf("bars %s, want %s", strings.Join(labels, ","), want)
	}
}

func TestHTMLEmptyReport(t *testing.T) {
	page, doc := reportPage(t, Build(small(t)))
	checkInertHTML(t, doc)
	for _, want := range []string{"No COEs were created in this period.", "No overdue action items", "No data in these weeks", "Nothing is overdue."} {
		if !strings.Contains(page, want) {
			t.Errorf("empty report lacks %q", want)
		}
	}
	if got := doc.all(hasAttr("data-metric", "completion_rate"))[0]; got.textContent() != "–" || got.attr["data-value"] != "" {
		t.Errorf("completion rate of nothing: %q %q", got.textContent(), got.attr["data-value"])
	}
}

func TestStatusPage(t *testing.T) {
	in := seed(t)
	in.Health.LastReconcile = map[string]time.Time{"jira": in.Now.Add(-3 * in.Health.ReconcileInterval)}
	var b bytes.Buffer
	err := StatusPage(&b, Status{Now: in.Now, Location: in.Location, Health: in.Health, ReportURL: "javascript:alert(1)"})
	if err != nil {
		t.Fatal(err)
	}
	doc := parseHTML(t, b.String())
	v := doc.all(hasAttr("id", "verdict"))
	if len(v) != 1 || v[0].attr["data-verdict"] != Unreliable {
		t.Fatalf("verdict %v", v)
	}
	states := map[string]string{}
	for _, tr := range doc.all(hasAttr("data-system", "")) {
		states[tr.attr["data-system"]] = tr.attr["data-state"]
	}
	if states["jira"] != "late" || states["github"] != "never" {
		t.Errorf("reconcile states %v", states)
	}
	for name, want := range map[string]string{"jobs_failed": "2", "jobs_waiting": "1", "webhooks_received": "195", "webhooks_rejected": "4"} {
		els := doc.all(hasAttr("data-metric", name))
		if len(els) != 1 || els[0].textContent() != want {
			t.Errorf("metric %s: %v", name, els)
		}
	}
	// html/template refuses the javascript: link.
	links := doc.all(func(n *node) bool { return n.name == "a" })
	if len(links) != 1 || strings.Contains(links[0].attr["href"], "javascript") {
		t.Errorf("links %v", links[0].attr)
	}
}
