package coe

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// templateDoc is the page that documents what a COE template can use.
const templateDoc = "../../docs/templates.md"

const (
	fieldsBegin = "<!-- BEGIN TEMPLATE FIELDS: generated from coe.Draft by `go test ./sync/coe -run TestTemplateFieldsDocumented -update`; do not edit -->"
	fieldsEnd   = "<!-- END TEMPLATE FIELDS -->"
)

// TestTemplateFieldsDocumented regenerates the field reference of
// docs/templates.md from the template's data (coe.Draft and every type
// of this package it reaches, with their doc comments) and fails when the
// page differs: a field added to the draft without a line in the page
// fails here. -update rewrites the section.
func TestTemplateFieldsDocumented(t *testing.T) {
	want := fieldReference(t)
	page, err := os.ReadFile(templateDoc)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(page), fieldsBegin)
	_, after, ok2 := strings.Cut(rest, fieldsEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s lacks the markers %q and %q", templateDoc, fieldsBegin, fieldsEnd)
	}
	got := strings.TrimPrefix(rest[:len(rest)-len(after)-len(fieldsEnd)], "\n")
	if *update {
		out := before + fieldsBegin + "\n" + want + fieldsEnd + after
		if err := os.WriteFile(templateDoc, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s's field reference is out of date at its line %d (go test ./sync/coe -run %s -update):\n got %q\nwant %q",
					templateDoc, i+1, t.Name(), g, w)
			}
		}
	}
	// Every field of every type is named in the page.
	for _, typ := range templateTypes() {
		for i := range typ.NumField() {
			if f := typ.Field(i); f.IsExported() && !strings.Contains(string(page), "| `."+f.Name+"` |") {
				t.Errorf("%s.%s is not documented in %s", typ.Name(), f.Name, templateDoc)
			}
		}
	}
}

// templateTypes are Draft and the struct types of this package its
// fields reach, Draft first, the others by name.
func templateTypes() []reflect.Type {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.PkgPath() != reflect.TypeOf(Draft{}).PkgPath() || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				walk(t.Field(i).Type)
			}
		}
	}
	walk(reflect.TypeOf(Draft{}))
	var out []reflect.Type
	for t := range seen {
		if t.Name() != "Draft" {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name() < out[b].Name() })
	return append([]reflect.Type{reflect.TypeOf(Draft{})}, out...)
}

// fieldReference renders one table per template type: its fields and the
// methods a template can call (no arguments, one result), with the first
// sentence of their doc comments.
func fieldReference(t *testing.T) string {
	docs := packageDocs(t)
	var b strings.Builder
	for _, typ := range templateTypes() {
		fmt.Fprintf(&b, "### %s\n\n", typ.Name())
		if d := docs[typ.Name()]; d != "" {
			fmt.Fprintf(&b, "%s\n\n", d)
		}
		b.WriteString("| Field | Type | Meaning |\n|---|---|---|\n")
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.IsExported() {
				fmt.Fprintf(&b, "| `.%s` | `%s` | %s |\n", f.Name, typeName(f.Type), docs[typ.Name()+"."+f.Name])
			}
		}
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			if m.Type.NumIn() != 1 || m.Type.NumOut() != 1 || strings.HasPrefix(m.Name, "With") {
				continue // not callable from a template, or a builder
			}
			fmt.Fprintf(&b, "| `.%s` | `%s` (method) | %s |\n", m.Name, typeName(m.Type.Out(0)), docs[typ.Name()+"."+m.Name])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func typeName(t reflect.Type) string {
	return strings.ReplaceAll(t.String(), "coe.", "")
}

// packageDocs maps "Type" and "Type.Field" or "Type.Method" to the first
// sentence of its doc (or line) comment, on one line.
func packageDocs(t *testing.T) map[string]string {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
	}
	pkg, err := doc.NewFromFiles(fset, parsed, "github.com/coesync/coesync/sync/coe")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, typ := range pkg.Types {
		out[typ.Name] = firstSentence(typ.Doc)
		for _, m := range typ.Methods {
			out[typ.Name+"."+m.Name] = firstSentence(m.Doc)
		}
		for _, spec := range typ.Decl.Specs {
			st, ok := spec.(*ast.TypeSpec).Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, f := range st.Fields.List {
				text := f.Doc.Text()
				if text == "" {
					text = f.Comment.Text()
				}
				for _, n := range f.Names {
					out[typ.Name+"."+n.Name] = firstSentence(text)
				}
			}
		}
	}
	return out
}

// firstSentence is the comment's first paragraph up to its first period,
// on one line, with "|" escaped for a Markdown table.
func firstSentence(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n\n")
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

// TestCustomTemplateExample renders the custom template that
// docs/templates.md shows (testdata/custom.wiki.tmpl, quoted there
// verbatim) and compares it with its golden file.
func TestCustomTemplateExample(t *testing.T) {
	tmpl, err := os.ReadFile("testdata/custom.wiki.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(templateDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "```\n"+string(tmpl)+"```\n") {
		t.Errorf("%s does not quote testdata/custom.wiki.tmpl verbatim in a code block", templateDoc)
	}
	r, err := NewRendererTrusting(string(tmpl), NewTrustedDomains([]string{"grafana.acme.com"}))
	if err != nil {
		t.Fatal(err)
	}
	d := contextDraft().WithItemDefaults("P1", at(14*24*time.Hour))
	out, err := r.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "custom.wiki", out)
	if hz := wikiDocHazards(out, append(allowedLinks(d), "[https://grafana.acme.com/d/checkout?orgId=1&from=now-1h]")); len(hz) > 0 {
		t.Errorf("hazards:\n%s", strings.Join(hz, "\n"))
	}
	for _, want := range []string{"| P1 | 2026-12-07 |", "*Status update:*", "[https://grafana.acme.com/d/checkout?orgId=1&from=now-1h]"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
}
