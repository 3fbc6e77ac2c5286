// Command ociimage builds coesync's container image as an OCI image layout,
// without a container daemon: each platform's image is the static binary,
// CA certificates and a non-root user on an empty base, so there is no base
// image to pull or pin.
//
//	go run . -out ../../dist/image -version v1.2.3 -revision abc \
//	  -bin linux/amd64=../../dist/coesync-linux-amd64 -bin linux/arm64=../../dist/coesync-linux-arm64
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type bins map[string]string

func (b bins) String() string { return fmt.Sprint(map[string]string(b)) }
func (b bins) Set(v string) error {
	plat, path, ok := strings.Cut(v, "=")
	if !ok {
		return errors.New("want os/arch=path")
	}
	b[plat] = path
	return nil
}

func main() {
	binaries := bins{}
	out := flag.String("out", "", "OCI layout directory to write")
	version := flag.String("version", "", "version label")
	revision := flag.String("revision", "", "VCS revision label")
	created := flag.String("created", "", "creation time (RFC 3339; default: the revision's commit time is better than now)")
	certs := flag.String("certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle to include")
	flag.Var(binaries, "bin", "os/arch=path of a static coesync binary (repeatable)")
	flag.Parse()
	if *out == "" || len(binaries) == 0 || *version == "" {
		fmt.Fprintln(os.Stderr, "ociimage: -out, -version and at least one -bin are required")
		os.Exit(2)
	}
	if err := build(*out, *version, *revision, *created, *certs, binaries); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func build(out, version, revision, created, certs string, binaries bins) error {
	when := time.Unix(0, 0).UTC()
	if created != "" {
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			return fmt.Errorf("-created: %w", err)
		}
		when = t.UTC()
	}
	ca, err := os.ReadFile(certs)
	if err != nil {
		return fmt.Errorf("read CA bundle: %w", err)
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       "coesync",
		"org.opencontainers.image.description": "Turns resolved PagerDuty incidents into Correction-of-Error reviews in Jira",
		"org.opencontainers.image.source":      "https://github.com/coesync/coesync",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.revision":    revision,
		"org.opencontainers.image.created":     when.Format(time.RFC3339),
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	for plat, path := range binaries {
		osName, arch, ok := strings.Cut(plat, "/")
		if !ok {
			return fmt.Errorf("platform %q: want os/arch", plat)
		}
		bin, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read binary for %s: %w", plat, err)
		}
		img, err := image(bin, ca, labels, osName, arch, when)
		if err != nil {
			return fmt.Errorf("image for %s: %w", plat, err)
		}
		err = p.AppendImage(img, layout.WithPlatform(v1.Platform{OS: osName, Architecture: arch}),
			layout.WithAnnotations(map[string]string{"org.opencontainers.image.version": version}))
		if err != nil {
			return fmt.Errorf("append %s: %w", plat, err)
		}
		d, _ := img.Digest()
		fmt.Printf("%s %s\n", plat, d)
	}
	return nil
}

func image(bin, ca []byte, labels map[string]string, osName, arch string, when time.Time) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, Uid: uid, Gid: uid, ModTime: when})
	}
	file := func(name string, mode int64, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(b)), ModTime: when}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	for _, step := range []func() error{
		func() error { return dir("etc/", 0) },
		func() error { return dir("etc/ssl/", 0) },
		func() error { return dir("etc/ssl/certs/", 0) },
		func() error { return file("etc/ssl/certs/ca-certificates.crt", 0o644, ca) },
		func() error {
			return file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/data:/sbin/nologin\n"))
		},
		func() error { return file("etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n")) },
		func() error { return dir("tmp/", 0) },
		func() error { return dir("usr/", 0) },
		func() error { return dir("usr/local/", 0) },
		func() error { return dir("usr/local/bin/", 0) },
		func() error { return file("usr/local/bin/coesync", 0o755, bin) },
		func() error { return dir("data/", 65532) },
		tw.Close,
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	raw := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Created = osName, arch, v1.Time{Time: when}
	cfg.Config = v1.Config{
		User:         "65532:65532",
		Entrypoint:   []string{"/usr/local/bin/coesync"},
		Cmd:          []string{"serve"},
		WorkingDir:   "/data",
		Env:          []string{"COESYNC_LISTEN_ADDR=:8080", "COESYNC_DATABASE_URL=/data/coesync.db", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "9090/tcp": {}},
		Volumes:      map[string]struct{}{"/data": {}},
		Labels:       labels,
	}
	return mutate.ConfigFile(img, cfg)
}
