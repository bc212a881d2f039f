// Package storetest opens stores for tests.
package storetest

import (
	"path/filepath"
	"testing"

	"github.com/eosweep/eosweep/coordinator/store"
)

// MustOpen opens a fresh store in t.TempDir() (fsync disabled: tests of
// durability use store.Open on a file of their own) and closes it at cleanup.
func MustOpen(tb testing.TB) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "eosweep.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return s
}
