package main

import (
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
)

// cgroup files holding the container's memory limit: v2, then v1.
const (
	cgroupV2MemoryMax = "/sys/fs/cgroup/memory.max"
	cgroupV1MemoryMax = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
)

// noCgroupLimit is above any real limit: cgroup v1 reports "unlimited" as
// a page-rounded 2^63-1.
const noCgroupLimit = 1 << 62

// cgroupMemoryLimit reads the container's memory limit in bytes; ok is
// false when there is none (no cgroup file, "max", or v1's unlimited).
func cgroupMemoryLimit(readFile func(string) ([]byte, error)) (limit int64, ok bool) {
	for _, path := range []string{cgroupV2MemoryMax, cgroupV1MemoryMax} {
		b, err := readFile(path)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= noCgroupLimit {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// runtimeMemoryLimit is the Go runtime's soft limit for a container
// limit: 90%, leaving room for memory the runtime does not count.
func runtimeMemoryLimit(container int64) int64 { return container / 10 * 9 }

// setMemoryLimit makes the Go runtime collect harder near the container's
// memory limit instead of letting the pod be OOM-killed, unless the
// operator set GOMEMLIMIT (the runtime has read it already).
func setMemoryLimit(log *slog.Logger, getenv func(string) string, readFile func(string) ([]byte, error)) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	limit, ok := cgroupMemoryLimit(readFile)
	if !ok {
		return
	}
	soft := runtimeMemoryLimit(limit)
	debug.SetMemoryLimit(soft)
	log.Info("Go memory limit set from the container limit", "container_bytes", limit, "go_bytes", soft)
}
