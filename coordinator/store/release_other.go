//go:build !linux

package store

// releaseMapping does nothing outside Linux.
func releaseMapping(addr, size uintptr) error { return nil }
