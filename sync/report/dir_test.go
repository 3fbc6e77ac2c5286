package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFileName(t *testing.T) {
	for label, want := range map[string]string{
		"2026-W47":                            "coesync-report-2026-W47.md",
		"2026-11-01 – 2026-11-08":             "coesync-report-2026-11-01_2026-11-08.md",
		"2026-11-01 13:00 – 2026-11-08 13:00": "coesync-report-2026-11-01_13_00_2026-11-08_13_00.md",
		"../../etc/passwd":                    "coesync-report-etc_passwd.md",
		`a\b/c:d*e?f"g<h>i|j`:                 "coesync-report-a_b_c_d_e_f_g_h_i_j.md",
		"":                                    "coesync-report-period.md",
		"日本 @here\x00":                        "coesync-report-here.md",
		strings.Repeat("x", 300):              "coesync-report-" + strings.Repeat("x", maxFileLabel) + ".md",
	} {
		got := FileName(label)
		if got != want {
			t.Errorf("FileName(%q) = %q, want %q", label, got, want)
		}
		if filepath.Base(got) != got || strings.ContainsAny(got, `/\`) {
			t.Errorf("FileName(%q) = %q is not one path element", label, got)
		}
	}
}

// entries lists dir's file names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteMarkdown(t *testing.T) {
	r := Build(seed(t))
	dir := filepath.Join(t.TempDir(), "reports", "weekly") // missing: created
	path, err := WriteMarkdown(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "coesync-report-2026-W47.md"); path != want {
		t.Errorf("path %q, want %q", path, want)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != r.Markdown() {
		t.Error("the file is not the Markdown report")
	}
	fi1, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi1.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi1.Mode().Perm())
	}

	// Idempotent: the same report again leaves the very same file.
	path2, err := WriteMarkdown(dir, Build(seed(t)))
	if err != nil || path2 != path {
		t.Fatalf("rewrite: %q, %v", path2, err)
	}
	fi2, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(fi1, fi2) || !fi2.ModTime().Equal(fi1.ModTime()) {
		t.Error("an identical report replaced the file")
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, got) {
		t.Error("an identical report changed the file")
	}

	// A newer report of the same period replaces it, same name.
	in := seed(t)
	in.Now = in.Now.Add(time.Hour)
	newer := Build(in)
	if _, err := WriteMarkdown(dir, newer); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != newer.Markdown() {
		t.Error("the newer report was not written")
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "coesync-report-2026-W47.md" {
		t.Errorf("dir holds %q, want the report alone (no temporary file left)", names)
	}
}

// A reader never sees a partial report: every read is one whole version.
func TestWriteMarkdownAtomic(t *testing.T) {
	dir := t.TempDir()
	in := seed(t)
	a := Build(in)
	in.Now = in.Now.Add(time.Minute)
	in.Items = append(in.Items, in.Items...) // a longer report
	b := Build(in)
	path, err := WriteMarkdown(dir, a)
	if err != nil {
		t.Fatal(err)
	}
	ma, mb := a.Markdown(), b.Markdown()

	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad string
	reads := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := os.ReadFile(path)
				mu.Lock()
				reads++
				if err != nil {
					bad = err.Error()
				} else if s := string(got); s != ma && s != mb {
					bad = "a partial report of " + itoa(len(s)) + " bytes"
				}
				mu.Unlock()
			}
		}()
	}
	for i := range 100 {
		r := a
		if i%2 == 0 {
			r = b
		}
		if _, err := WriteMarkdown(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if bad != "" {
		t.Fatalf("a reader saw %s", bad)
	}
	if reads == 0 {
		t.Fatal("no read happened")
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("dir holds %q, want the report alone", names)
	}
}

func TestWriteMarkdownErrors(t *testing.T) {
	r := Build(seed(t))
	if _, err := WriteMarkdown("", r); err == nil {
		t.Error("no error for an empty directory")
	}

	// The directory is a file.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteMarkdown(file, r); err == nil {
		t.Error("no error when the directory is a file")
	}

	// The target is a directory: the rename fails and the temporary file
	// is removed.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, FileName(r.Period.Label)), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteMarkdown(dir, r); err == nil {
		t.Error("no error when the target is a directory")
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("dir holds %q: a temporary file was left", names)
	}
}
