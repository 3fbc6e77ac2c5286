package main

import (
	"io/fs"
	"testing"
)

func TestCgroupMemoryLimit(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  int64
		ok    bool
	}{
		{"v2 limit", map[string]string{cgroupV2MemoryMax: "268435456\n"}, 268435456, true},
		{"v2 unlimited", map[string]string{cgroupV2MemoryMax: "max\n", cgroupV1MemoryMax: "1000"}, 0, false},
		{"v1 limit", map[string]string{cgroupV1MemoryMax: "134217728\n"}, 134217728, true},
		{"v1 unlimited", map[string]string{cgroupV1MemoryMax: "9223372036854771712\n"}, 0, false},
		{"garbage", map[string]string{cgroupV2MemoryMax: "lots"}, 0, false},
		{"no cgroup", map[string]string{}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			read := func(p string) ([]byte, error) {
				if s, ok := tc.files[p]; ok {
					return []byte(s), nil
				}
				return nil, fs.ErrNotExist
			}
			got, ok := cgroupMemoryLimit(read)
			if got != tc.want || ok != tc.ok {
				t.Errorf("cgroupMemoryLimit = %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	// The manifest's 256Mi becomes about 230 MiB for the Go runtime.
	if got := runtimeMemoryLimit(256 << 20); got < 230<<20 || got > 231<<20 {
		t.Errorf("runtimeMemoryLimit(256Mi) = %d", got)
	}
}
