package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxFileLabel caps the period label in a file name.
const maxFileLabel = 100

// FileName is the name WriteMarkdown gives the report of the period
// labelled label: "coesync-report-2026-W47.md", or for a range
// "coesync-report-2026-11-01_2026-11-08.md". Only ASCII letters, digits,
// '-' and '.' of the label are kept; every other run becomes one '_'.
func FileName(label string) string {
	var b strings.Builder
	sep := false
	for _, r := range label {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.'
		if !ok {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('_')
		}
		sep = false
		b.WriteRune(r)
		if b.Len() >= maxFileLabel {
			break
		}
	}
	name := strings.Trim(b.String(), "-._")
	if name == "" {
		name = "period"
	}
	return "coesync-report-" + name + ".md"
}

// WriteMarkdown writes the Markdown report into dir, creating dir when it
// is missing, as FileName(r.Period.Label), and returns the file's path.
// The write is atomic: the report goes to a temporary file in dir, which
// is synced to disk and renamed over the target, so a reader sees the old
// report or the new one, never a part. Writing the same report again
// leaves the file as it is (same bytes, no new file).
func WriteMarkdown(dir string, r Report) (path string, err error) {
	if strings.TrimSpace(dir) == "" {
		return "", errors.New("report: no directory to write the report to")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("report: create report directory: %w", err)
	}
	path = filepath.Join(dir, FileName(r.Period.Label))
	content := []byte(r.Markdown())
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
		return path, nil
	}
	if err := writeAtomic(path, content); err != nil {
		return "", fmt.Errorf("report: write %s: %w", path, err)
	}
	return path, nil
}

// writeAtomic replaces path with content through a synced temporary file
// in the same directory and a rename, then syncs the directory so that the
// rename survives a crash.
func writeAtomic(path string, content []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(content); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Best effort: not every system can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
