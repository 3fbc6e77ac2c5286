package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -run %s -update rewrites it)\n%s", path, t.Name(), firstDiff(want, got))
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return "line " + itoa(i+1) + ":\nwant: " + string(w) + "\ngot:  " + string(g)
		}
	}
	return "(no line differs)"
}

func TestGoldenMarkdown(t *testing.T) {
	golden(t, "report.md", []byte(Build(seed(t)).Markdown()))
}

func TestGoldenJSON(t *testing.T) {
	b, err := Build(seed(t)).JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", b)
}

func TestGoldenHTML(t *testing.T) {
	var b bytes.Buffer
	if err := Build(seed(t)).HTML(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html", b.Bytes())
}

func TestGoldenStatusPage(t *testing.T) {
	in := seed(t)
	var b bytes.Buffer
	err := StatusPage(&b, Status{Now: in.Now, Location: in.Location, Health: in.Health})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "status.html", b.Bytes())
}

// The output must not depend on the order of the input.
func TestBuildIsDeterministic(t *testing.T) {
	in := seed(t)
	want, _ := Build(in).JSON()
	for i := 0; i < 5; i++ {
		rev := in
		rev.COEs = append([]COE(nil), in.COEs...)
		rev.Items = append([]ActionItem(nil), in.Items...)
		for a, b := 0, len(rev.COEs)-1; a < b; a, b = a+1, b-1 {
			rev.COEs[a], rev.COEs[b] = rev.COEs[b], rev.COEs[a]
		}
		for a, b := 0, len(rev.Items)-1; a < b; a, b = a+1, b-1 {
			rev.Items[a], rev.Items[b] = rev.Items[b], rev.Items[a]
		}
		got, _ := Build(rev).JSON()
		if !bytes.Equal(got, want) {
			t.Fatalf("output depends on input order:\n%s", firstDiff(want, got))
		}
	}
}
