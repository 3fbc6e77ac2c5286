package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func TestBuildWritesAMultiPlatformImage(t *testing.T) {
	dir := t.TempDir()
	certs := filepath.Join(dir, "ca.crt")
	amd, arm := filepath.Join(dir, "amd64"), filepath.Join(dir, "arm64")
	for f, b := range map[string]string{certs: "CERTS", amd: "BIN-AMD64", arm: "BIN-ARM64"} {
		if err := os.WriteFile(f, []byte(b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "image")
	if err := build(out, "v1.2.3", "abc123", "2026-12-01T10:00:00Z", certs, bins{"linux/amd64": amd, "linux/arm64": arm}); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 {
		t.Fatalf("%d manifests, want one per platform", len(m.Manifests))
	}
	for _, desc := range m.Manifests {
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Architecture != desc.Platform.Architecture || cfg.OS != "linux" {
			t.Errorf("config says %s/%s under platform %v", cfg.OS, cfg.Architecture, desc.Platform)
		}
		c := cfg.Config
		if c.User != "65532:65532" || len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/usr/local/bin/coesync" || c.Cmd[0] != "serve" {
			t.Errorf("user %q entrypoint %v cmd %v", c.User, c.Entrypoint, c.Cmd)
		}
		for k, want := range map[string]string{"org.opencontainers.image.version": "v1.2.3",
			"org.opencontainers.image.revision": "abc123", "org.opencontainers.image.created": "2026-12-01T10:00:00Z",
			"org.opencontainers.image.licenses": "Apache-2.0"} {
			if c.Labels[k] != want {
				t.Errorf("label %s = %q, want %q", k, c.Labels[k], want)
			}
		}
		files := map[string]string{}
		rc, err := img.Layers()
		if err != nil || len(rc) != 1 {
			t.Fatalf("layers %d %v, want 1", len(rc), err)
		}
		r, err := rc[0].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(tr)
			files[h.Name] = string(b)
			if h.Name == "data/" && h.Uid != 65532 {
				t.Errorf("/data owned by %d, want the non-root user", h.Uid)
			}
		}
		if want := "BIN-" + map[string]string{"amd64": "AMD64", "arm64": "ARM64"}[cfg.Architecture]; files["usr/local/bin/coesync"] != want {
			t.Errorf("%s image holds binary %q, want %q", cfg.Architecture, files["usr/local/bin/coesync"], want)
		}
		if files["etc/ssl/certs/ca-certificates.crt"] != "CERTS" {
			t.Error("no CA bundle")
		}
	}
	// The same inputs give the same image: the digest is reproducible.
	out2 := filepath.Join(dir, "image2")
	if err := build(out2, "v1.2.3", "abc123", "2026-12-01T10:00:00Z", certs, bins{"linux/amd64": amd, "linux/arm64": arm}); err != nil {
		t.Fatal(err)
	}
	idx2, _ := layout.ImageIndexFromPath(out2)
	m2, _ := idx2.IndexManifest()
	got := map[string]bool{}
	for _, d := range m2.Manifests {
		got[d.Digest.String()] = true
	}
	for _, d := range m.Manifests {
		if !got[d.Digest.String()] {
			t.Errorf("rebuilding changed the %v image's digest", d.Platform)
		}
	}
}
