// Package version says which build of coesync is running: the release
// version stamped at link time, else what the Go toolchain recorded.
package version

import (
	"encoding/json"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"
)

// Version is the release version, set by the release build:
//
//	go build -ldflags "-X github.com/coesync/coesync/sync/version.Version=v1.2.3" ./cmd/coesync
//
// Left empty, Get falls back to the module version of `go install
// …@vX.Y.Z`, else "devel".
var Version string

// Info identifies a build.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"` // VCS commit, "unknown" when not recorded (-buildvcs=false)
	Modified  bool   `json:"modified"` // built from a work tree with uncommitted changes
	GoVersion string `json:"goversion"`
}

// Get returns this binary's build information.
var Get = sync.OnceValue(func() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(Version, bi)
})

func fromBuildInfo(stamped string, bi *debug.BuildInfo) Info {
	info := Info{Version: stamped, Revision: "unknown", GoVersion: runtime.Version()}
	if bi == nil {
		if info.Version == "" {
			info.Version = "devel"
		}
		return info
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	return info
}

// String is the one line `coesync version` prints.
func (i Info) String() string {
	s := "coesync " + i.Version + " (revision " + i.Revision
	if i.Modified {
		s += ", modified"
	}
	return s + ", " + i.GoVersion + ")"
}

// Handler answers GET /version with Info as JSON.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(Get())
	})
}
