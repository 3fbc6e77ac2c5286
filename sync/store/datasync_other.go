//go:build !linux

package store

import "os"

// datasync flushes f to stable storage. Only Linux has fdatasync; on macOS
// (a developer's machine) File.Sync is F_FULLFSYNC, slower but durable.
func datasync(f *os.File) error { return f.Sync() }
