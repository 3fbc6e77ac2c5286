package report

import (
	"math"
	"strconv"
	"strings"
)

// Charts are drawn in Go as geometry (numbers, classes, labels) and written
// out as inline SVG by html/template, which escapes every label. Colours
// come from CSS classes, so the page's light and dark themes apply.

// Chart sizes in SVG user units. A chart is about as wide as its column on
// a laptop (three columns) and on a phone (one), so 1 unit ≈ 1 CSS pixel
// and the 10–11 unit labels stay readable on both.
const (
	chartW    = 360
	colChartH = 220
	rowH      = 26
)

type svgChart struct {
	ID, Kind, Title, Desc string
	W, H                  int
	Grid                  []svgLine
	Bars                  []svgBar
	Labels                []svgText
	Legend                []legendItem
	// Empty is shown over an empty chart.
	Empty  string
	EmptyX float64
	EmptyY float64
}

type svgLine struct {
	X1, X2, Y float64
	Label     string
}

type svgBar struct {
	X, Y, W, H float64
	Class      string
	Series     string
	Label      string
	Value      int
	Tip        string
	// TX, TY place the value label, anchored at TAnchor.
	TX, TY  float64
	TAnchor string
}

type svgText struct {
	X, Y   float64
	Text   string
	Anchor string
	Class  string
	Tip    string
}

type legendItem struct{ Class, Label string }

type series struct {
	// Label names the values in the legend and tooltips; One is its
	// singular.
	Name, Class, Label, One string
	Values                  []int
}

// num formats an SVG coordinate with at most one decimal.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// niceScale returns the top of a value axis for maximum v and its step:
// a step of 1, 2 or 5 times a power of ten, at most five steps.
func niceScale(v int) (top, step int) {
	if v <= 0 {
		return 4, 1
	}
	for mag := 1; ; mag *= 10 {
		for _, m := range []int{1, 2, 5} {
			s := m * mag
			if n := (v + s - 1) / s; n <= 5 {
				return n * s, s
			}
		}
	}
}

// columnChart draws vertical bars, one group per category and one bar per
// series in each group. current marks the category to emphasise (-1 none).
func columnChart(id, kind, title, desc string, cats, tips []string, current int, ss []series) svgChart {
	const left, right, top, bottom = 30.0, 6.0, 16.0, 24.0
	c := svgChart{ID: id, Kind: kind, Title: title, Desc: desc, W: chartW, H: colChartH}
	plotW, plotH := float64(chartW)-left-right, float64(colChartH)-top-bottom
	maxV := 0
	for _, s := range ss {
		for _, v := range s.Values {
			maxV = max(maxV, v)
		}
		if len(ss) > 1 {
			c.Legend = append(c.Legend, legendItem{Class: s.Class, Label: s.Label})
		}
	}
	yTop, step := niceScale(maxV)
	for v := 0; v <= yTop; v += step {
		y := top + plotH*(1-float64(v)/float64(yTop))
		c.Grid = append(c.Grid, svgLine{X1: left, X2: float64(chartW) - right, Y: y, Label: itoa(v)})
	}
	if len(cats) == 0 {
		return c
	}
	gw := plotW / float64(len(cats))
	const gap = 2.0
	bw := math.Min(gw*0.72/float64(len(ss)), 24)
	total := bw*float64(len(ss)) + gap*float64(len(ss)-1)
	for i, cat := range cats {
		x0 := left + gw*float64(i) + (gw-total)/2
		class := "xl"
		if i == current {
			class = "xl cur"
		}
		c.Labels = append(c.Labels, svgText{X: left + gw*(float64(i)+0.5), Y: float64(colChartH) - 8,
			Text: cat, Anchor: "middle", Class: class, Tip: tips[i]})
		for j, s := range ss {
			v := s.Values[i]
			h := plotH * float64(v) / float64(yTop)
			x := x0 + float64(j)*(bw+gap)
			cls := "bar " + s.Class
			if i == current {
				cls += " cur"
			}
			c.Bars = append(c.Bars, svgBar{
				X: x, Y: top + plotH - h, W: bw, H: h, Class: cls, Series: s.Name, Label: tips[i], Value: v,
				Tip: tips[i] + ": " + plural(v, s.One, s.Label), TX: x + bw/2, TY: top + plotH - h - 4, TAnchor: "middle",
			})
		}
	}
	if maxV == 0 {
		c.Empty, c.EmptyX, c.EmptyY = "No data in these weeks", left+plotW/2, top+plotH/2
	}
	return c
}

// barList draws one horizontal bar per row, largest first as given.
func barList(id, kind, title, desc, class, unit string, rows []Count, empty string) svgChart {
	const top, bottom, labelW, pad, valueW = 6.0, 6.0, 120.0, 8.0, 30.0
	c := svgChart{ID: id, Kind: kind, Title: title, Desc: desc, W: chartW}
	if len(rows) == 0 {
		c.H = 80
		c.Empty, c.EmptyX, c.EmptyY = empty, chartW/2, 44
		return c
	}
	c.H = int(top + bottom + rowH*float64(len(rows)))
	maxV := 1
	for _, r := range rows {
		maxV = max(maxV, r.Count)
	}
	span := float64(chartW) - labelW - pad - valueW
	for i, r := range rows {
		y := top + rowH*float64(i)
		w := span * float64(r.Count) / float64(maxV)
		c.Labels = append(c.Labels, svgText{X: labelW, Y: y + rowH/2 + 4, Text: truncate(r.Name, 18),
			Anchor: "end", Class: "yl", Tip: r.Name})
		c.Bars = append(c.Bars, svgBar{
			X: labelW + pad, Y: y + 4, W: w, H: rowH - 8, Class: "bar " + class, Series: kind,
			Label: r.Name, Value: r.Count, Tip: r.Name + ": " + itoa(r.Count) + " " + unit,
			TX: labelW + pad + w + 4, TY: y + rowH/2 + 4, TAnchor: "start",
		})
	}
	return c
}

// weekShort turns "2026-W47" into "W47".
func weekShort(label string) string {
	if _, w, ok := strings.Cut(label, "-"); ok {
		return w
	}
	return label
}

// charts draws the report's three charts.
func (r Report) charts() []svgChart {
	n := len(r.Trend)
	cats, tips := make([]string, n), make([]string, n)
	open, closed, coes := make([]int, n), make([]int, n), make([]int, n)
	for i, t := range r.Trend {
		cats[i], tips[i] = weekShort(t.Label), t.Label
		if t.Partial {
			tips[i] += " (so far)"
		}
		open[i], closed[i], coes[i] = t.Open, t.Closed, t.COEs
	}
	span := ""
	if n > 0 {
		span = r.Trend[0].Label + " to " + r.Trend[n-1].Label
	}
	current := n - 1
	trend := columnChart("chart-trend", "trend", "Action items: open vs closed",
		"Action items open at the end of each week and closed during it, "+span+".", cats, tips, current,
		[]series{
			{Name: "open", Class: "open", Label: "open at week end", One: "open at week end", Values: open},
			{Name: "closed", Class: "closed", Label: "closed in week", One: "closed in week", Values: closed},
		})
	coeChart := columnChart("chart-coes", "coes", "COEs per week",
		"COEs created in each week, "+span+".", cats, tips, current,
		[]series{{Name: "coes", Class: "coe", Label: "COEs", One: "COE", Values: coes}})

	// Overdue by owner: the eight owners with the most, the rest summed.
	var rows []Count
	others, otherN := 0, 0
	for _, g := range r.ActionItems.ByOwner {
		if g.Overdue == 0 {
			continue
		}
		if len(rows) < 7 {
			rows = append(rows, Count{Name: g.Name, Count: g.Overdue})
		} else {
			others += g.Overdue
			otherN++
		}
	}
	if otherN == 1 {
		// Name the eighth owner rather than calling it "others".
		for _, g := range r.ActionItems.ByOwner[len(rows):] {
			if g.Overdue > 0 {
				rows = append(rows, Count{Name: g.Name, Count: g.Overdue})
				break
			}
		}
	} else if otherN > 1 {
		rows = append(rows, Count{Name: itoa(otherN) + " others", Count: others})
	}
	overdue := barList("chart-overdue", "overdue", "Overdue action items by owner",
		"Overdue action items per owner at "+fmtTime(r.in(r.AsOf))+".", "overdue", "overdue", rows,
		"No overdue action items")
	return []svgChart{trend, coeChart, overdue}
}
