package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultReleaseEvery is how often an open store hands the pages of its
// file mapping back to the kernel (Options.ReleaseEvery).
const DefaultReleaseEvery = time.Second

// ReleaseMapped hands the store file's mapped pages back to the kernel
// (madvise MADV_DONTNEED on Linux; elsewhere it does nothing). bbolt reads
// the file through a read-only shared mapping, and every page read through
// it stays in the process's resident set until the mapping goes: a run
// reads and rewrites every trial record, a restart or a report reads them
// all, so the resident set grew with the file (1.1 GB of a 2 GB store
// while a million-trial sweep ran). The pages stay in the kernel's page
// cache, clean, and a later read maps them again without touching the
// disk; nothing stored changes.
//
// It holds a read transaction while it runs, which keeps bbolt from
// remapping the file meanwhile.
func (s *Store) ReleaseMapped() error {
	return s.view(func(tx *bolt.Tx) error {
		if err := releaseMapping(s.db.Info().Data, uintptr(tx.Size())); err != nil {
			return fmt.Errorf("release mapped pages of %s: %w", s.path, err)
		}
		return nil
	})
}

// releaseLoop calls ReleaseMapped every d until the store closes.
func (s *Store) releaseLoop(d time.Duration) {
	defer close(s.released)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			_ = s.ReleaseMapped() // best effort: the pages stay mapped
		}
	}
}
