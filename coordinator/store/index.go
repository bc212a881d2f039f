package store

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The trial-id index (bucket trial_ids) is written behind the results it
// indexes. Its keys are hashes, so a commit's results land on as many of
// its pages as they are results: indexing each result in its own commit
// rewrote some 3,000 index pages per commit of a million-trial run, more
// than half the commit loop's work (the run took 61 s, 44 s without the
// index). Index entries of committed results wait in memory instead
// (pendingIDs), and go to the bucket in one transaction once there are
// maxPendingIDs of them, when no write has come for idleFlush, before a
// delete, and at Close: each page is written once per flush.
//
// Reusable reads the waiting entries as well as the bucket's, so a result
// is reusable as soon as it is committed. A crash loses only the waiting
// entries, never a result: the first transaction that leaves entries
// waiting also sets keyIDsPending in the meta bucket, the flush that writes
// them clears it, and Open, finding it set, indexes every stored result
// the index lacks (recoverIDs).
const (
	maxPendingIDs = 1 << 18 // some 30 MB of waiting entries at most
	idleFlush     = 250 * time.Millisecond
	keyIDsPending = "ids_pending"
)

// pendingIDs are the index entries of committed results not yet in the
// bucket: trial id → idValue. The committer writes them; Reusable reads them.
// The file's keyIDsPending is set exactly while there are any.
type pendingIDs struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (p *pendingIDs) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

func (p *pendingIDs) add(entries []idEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string][]byte{}
	}
	for _, e := range entries {
		p.m[e.id] = e.ref
	}
}

// lookup returns the waiting entry of each id (nil where there is none).
func (p *pendingIDs) lookup(ids []string) [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) == 0 {
		return nil
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = p.m[id]
	}
	return out
}

// sorted returns the waiting entries in key order (the order bbolt's pages
// take them in).
func (p *pendingIDs) sorted() []idEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]idEntry, 0, len(p.m))
	for id, ref := range p.m {
		out = append(out, idEntry{id, ref})
	}
	slices.SortFunc(out, func(a, b idEntry) int { return strings.Compare(a.id, b.id) })
	return out
}

// clear forgets the waiting entries once they are written (only the
// committer adds any, so none came meanwhile).
func (p *pendingIDs) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m = nil
}

// markWaiting sets keyIDsPending in tx when entries start to wait and
// deletes it when none waits any longer.
func markWaiting(tx *bolt.Tx, before, after bool) error {
	meta := tx.Bucket([]byte(bucketMeta))
	switch {
	case after && !before:
		return meta.Put([]byte(keyIDsPending), []byte("1"))
	case before && !after:
		return meta.Delete([]byte(keyIDsPending))
	}
	return nil
}

// idEntry is one index entry: a trial id and its result's idValue.
type idEntry struct {
	id  string
	ref []byte
}

// putIDs writes entries into the index bucket.
func putIDs(tx *bolt.Tx, entries []idEntry) error {
	ids := tx.Bucket([]byte(bucketIDs))
	for _, e := range entries {
		if err := ids.Put([]byte(e.id), e.ref); err != nil {
			return fmt.Errorf("index result of trial %s: %w", e.id, err)
		}
	}
	return nil
}

// flushIDs writes the waiting index entries in one transaction and clears
// keyIDsPending. On failure they keep waiting (and the flag stays set).
func (s *Store) flushIDs() {
	entries := s.ids.sorted()
	if len(entries) == 0 {
		return
	}
	start := time.Now()
	err := guard(s.path, func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			if err := putIDs(tx, entries); err != nil {
				return err
			}
			return markWaiting(tx, true, false)
		})
	})
	s.commits.record(0, time.Since(start), err == nil)
	if err == nil {
		s.ids.clear()
	}
}

// recoverIDs indexes every stored result the index lacks, when the file
// says entries were waiting (a crash, or a failed flush, lost them), and
// clears the flag. Open runs it in its write transaction.
func recoverIDs(tx *bolt.Tx) error {
	if tx.Bucket([]byte(bucketMeta)).Get([]byte(keyIDsPending)) == nil {
		return nil
	}
	if err := indexResults(tx, true); err != nil {
		return fmt.Errorf("recover the trial-id index: %w", err)
	}
	return markWaiting(tx, true, false)
}
