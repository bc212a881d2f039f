package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/eosweep/eosweep/coordinator/store/boltcheck"
)

// SchemaVersion is the version of the file layout this package writes.
//
// Version 2 added the trial-id index (bucket trial_ids: trial id → the seq
// and sweep of a stored result of that trial), built on open from the
// results of a version-1 file, which is otherwise left as it is.
const SchemaVersion = 2

const (
	bucketMeta    = "meta"
	bucketSweeps  = "sweeps"
	bucketTrials  = "trials"
	bucketResults = "results"
	bucketIDs     = "trial_ids"
	keySchema     = "schema"
	keySecret     = "secret"
)

// Sentinel errors.
var (
	// ErrSchemaTooNew is returned by Open for a file written by a newer eosweep.
	ErrSchemaTooNew = errors.New("store schema is newer than this eosweep")
	// ErrNotStore is returned by a read-only Open of a file that is not an eosweep store.
	ErrNotStore = errors.New("not an eosweep store")
	// ErrClosed is returned by Apply after Close.
	ErrClosed = errors.New("store closed")
	// ErrReadOnly is returned by Apply on a read-only store.
	ErrReadOnly = errors.New("store is read-only")
	// ErrNotFound is returned for an unknown sweep.
	ErrNotFound = errors.New("sweep not found")
)

// Options configure Open.
type Options struct {
	// ReadOnly opens the file with a shared lock for reading only.
	ReadOnly bool
	// Timeout bounds the wait for the file lock (default 1s): a file held by a
	// running coordinator is refused rather than waited for.
	Timeout time.Duration
	// NoSync skips fsync (tests and benchmarks of non-durable runs only).
	NoSync bool
	// CheckTimeout bounds the walk of the file's pages that Open runs
	// before bbolt maps the file (default DefaultCheckTimeout; negative:
	// no walk). The meta page, the file's size against it and the freelist
	// are always checked. See package boltcheck.
	CheckTimeout time.Duration
	// ReleaseEvery is how often the pages of the file's mapping are handed
	// back to the kernel (see ReleaseMapped; default DefaultReleaseEvery,
	// negative: never).
	ReleaseEvery time.Duration

	idleFlush time.Duration // tests: how long index entries wait for writes (default idleFlush)
}

// Store is an open store file.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool
	secret   []byte
	checked  boltcheck.Report
	broken   atomic.Pointer[error] // set when a write found the file damaged

	reqs      chan request
	closing   chan struct{}
	stopped   chan struct{} // closed when the committer has stopped
	released  chan struct{} // closed when releaseLoop has stopped
	closeOnce sync.Once
	commits   stats
	ids       pendingIDs // index entries written behind their results (index.go)
	idleFlush time.Duration
}

type request struct {
	ops  []Op
	done chan error
}

// Open opens or creates the store at path. A damaged file (truncated below
// what its meta page claims, a bad page header, a page id out of range…) is
// refused with an error wrapping ErrDamaged that names the file and what to
// do; it is checked before bbolt maps it (see Options.CheckTimeout).
func Open(path string, opt Options) (*Store, error) {
	if opt.Timeout == 0 {
		opt.Timeout = time.Second
	}
	if opt.CheckTimeout == 0 {
		opt.CheckTimeout = DefaultCheckTimeout
	}
	checked, err := precheck(path, opt.Timeout, opt.CheckTimeout)
	var db *bolt.DB
	if err == nil {
		err = guard(path, func() (err error) {
			db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.Timeout, ReadOnly: opt.ReadOnly, NoSync: opt.NoSync})
			return err
		})
	}
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: locked by another process (a running coordinator or run?): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path, readOnly: opt.ReadOnly, checked: checked, idleFlush: opt.idleFlush}
	if s.idleFlush == 0 {
		s.idleFlush = idleFlush
	}
	if opt.ReadOnly {
		err = s.view(s.checkSchema)
	} else {
		err = guard(path, func() error { return db.Update(s.initSchema) })
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.closing = make(chan struct{})
	if !opt.ReadOnly {
		s.reqs = make(chan request, 1024)
		s.stopped = make(chan struct{})
		go s.commitLoop()
	}
	if opt.ReleaseEvery == 0 {
		opt.ReleaseEvery = DefaultReleaseEvery
	}
	if opt.ReleaseEvery > 0 {
		s.released = make(chan struct{})
		go s.releaseLoop(opt.ReleaseEvery)
	}
	return s, nil
}

func (s *Store) checkSchema(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		return ErrNotStore
	}
	v, err := strconv.Atoi(string(meta.Get([]byte(keySchema))))
	if err != nil {
		return fmt.Errorf("%w: schema version %q", ErrNotStore, meta.Get([]byte(keySchema)))
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w: file has schema %d, this eosweep knows %d", ErrSchemaTooNew, v, SchemaVersion)
	}
	s.secret = append([]byte(nil), meta.Get([]byte(keySecret))...)
	return nil
}

func (s *Store) initSchema(tx *bolt.Tx) error {
	if tx.Bucket([]byte(bucketMeta)) == nil {
		meta, err := tx.CreateBucket([]byte(bucketMeta))
		if err != nil {
			return fmt.Errorf("create meta: %w", err)
		}
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		if err := meta.Put([]byte(keySchema), []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return fmt.Errorf("write schema: %w", err)
		}
		if err := meta.Put([]byte(keySecret), secret); err != nil {
			return fmt.Errorf("write secret: %w", err)
		}
	}
	if err := s.checkSchema(tx); err != nil {
		return err
	}
	for _, b := range []string{bucketSweeps, bucketTrials, bucketResults} {
		if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
			return fmt.Errorf("create %s: %w", b, err)
		}
	}
	if err := migrate(tx); err != nil {
		return err
	}
	return recoverIDs(tx)
}

// indexResults indexes the stored results by their trials' ids: every one,
// or (missingOnly) those whose trial id the index lacks.
func indexResults(tx *bolt.Tx, missingOnly bool) error {
	ids := tx.Bucket([]byte(bucketIDs))
	results := tx.Bucket([]byte(bucketResults))
	return results.ForEachBucket(func(sweep []byte) error {
		return results.Bucket(sweep).ForEach(func(k, v []byte) error {
			id, err := resultTrial(v)
			if err != nil {
				return fmt.Errorf("result %s/%x: %w", sweep, k, err)
			}
			if missingOnly && ids.Get([]byte(id)) != nil {
				return nil
			}
			return ids.Put([]byte(id), idValue(string(sweep), k))
		})
	})
}

// migrate brings a file of an older schema to SchemaVersion, adding only.
func migrate(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	v, _ := strconv.Atoi(string(meta.Get([]byte(keySchema)))) // checked by checkSchema
	if v >= SchemaVersion && tx.Bucket([]byte(bucketIDs)) != nil {
		return nil
	}
	if _, err := tx.CreateBucketIfNotExists([]byte(bucketIDs)); err != nil {
		return fmt.Errorf("create %s: %w", bucketIDs, err)
	}
	// 1 → 2: index every stored result by its trial's id.
	if err := indexResults(tx, false); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := meta.Put([]byte(keySchema), []byte(strconv.Itoa(SchemaVersion))); err != nil {
		return fmt.Errorf("write schema: %w", err)
	}
	return nil
}

// Checked returns what Open's structural check found (Complete is false when
// its walk was cut short by Options.CheckTimeout).
func (s *Store) Checked() boltcheck.Report { return s.checked }

// Secret returns the store's random secret (for lease tokens that survive restarts).
func (s *Store) Secret() []byte { return s.secret }

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Close stops the committer (after writing what is waiting) and closes the file.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		if s.stopped != nil {
			<-s.stopped
		}
		if s.released != nil {
			<-s.released
		}
	})
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Apply writes ops atomically and durably, group-committed with whatever
// other Apply calls are waiting.
func (s *Store) Apply(ops ...Op) error { return s.ApplyAsync(ops...)() }

// ApplyAsync queues ops for the committer and returns a function that waits
// until they are durable (and returns what Apply would). Writes are committed
// in the order they were queued, so a caller that queues under its own lock
// keeps its writes to one key in that lock's order.
func (s *Store) ApplyAsync(ops ...Op) (wait func() error) {
	if s.readOnly {
		return func() error { return ErrReadOnly }
	}
	if len(ops) == 0 {
		return func() error { return nil }
	}
	select {
	case <-s.closing:
		return func() error { return ErrClosed }
	default:
	}
	req := request{ops: ops, done: make(chan error, 1)}
	select {
	case s.reqs <- req:
	case <-s.closing:
		return func() error { return ErrClosed }
	}
	return func() error { return s.wait(req) }
}

func (s *Store) wait(req request) error {
	select {
	case err := <-req.done:
		return err
	case <-s.stopped:
		select {
		case err := <-req.done:
			return err
		default:
			return ErrClosed // sent after the committer's final drain
		}
	}
}

// maxGroup bounds the ops of one transaction, so a flood of writers still
// sees commits of bounded latency.
const maxGroup = 8192

func (s *Store) commitLoop() {
	defer close(s.stopped)
	// bbolt reads pages while it writes: a fault on a damaged one fails
	// the write (see guard) instead of killing the process.
	debug.SetPanicOnFault(true)
	idle := time.NewTimer(s.idleFlush)
	defer idle.Stop()
	for {
		var flush <-chan time.Time
		if s.ids.len() > 0 {
			idle.Reset(s.idleFlush)
			flush = idle.C
		}
		var first request
		select {
		case first = <-s.reqs:
		case <-flush:
			s.flushIDs()
			continue
		case <-s.closing:
			s.drainOnClose()
			s.flushIDs()
			return
		}
		group := []request{first}
		n := len(first.ops)
	gather:
		for n < maxGroup {
			select {
			case r := <-s.reqs:
				group = append(group, r)
				n += len(r.ops)
			default:
				break gather
			}
		}
		s.commit(group)
		if s.ids.len() >= maxPendingIDs {
			s.flushIDs()
		}
	}
}

func (s *Store) drainOnClose() {
	for {
		select {
		case r := <-s.reqs:
			s.commit([]request{r})
		default:
			return
		}
	}
}

// commit writes a group of requests in one transaction. When that fails and
// the group holds more than one request, each request is written again in a
// transaction of its own, in queue order, and gets its own outcome: only the
// requests that fail alone get an error, as with bbolt's DB.Batch. The ops are
// pre-encoded puts and the failed transaction was rolled back, so the retries
// write exactly what the group would have.
func (s *Store) commit(group []request) {
	err := s.write(group)
	if err == nil || len(group) == 1 {
		for _, r := range group {
			r.done <- err
		}
		return
	}
	for i := range group {
		group[i].done <- s.write(group[i : i+1])
	}
}

// write puts every op of group in one transaction. Once a write has found
// the file damaged, every later one fails with that error: bbolt's state
// after a failed page is not to be written on.
func (s *Store) write(group []request) error {
	if broken := s.broken.Load(); broken != nil {
		return *broken
	}
	n := 0
	for _, r := range group {
		n += len(r.ops)
	}
	start := time.Now()
	waited := s.ids.len() > 0 // index entries waited before this group (index.go)
	var waiting []idEntry     // the group's entries left waiting
	flushed := false          // the entries that waited before are written
	err := guard(s.path, func() error {
		waiting, flushed = nil, false
		return s.db.Update(func(tx *bolt.Tx) error {
			for _, r := range group {
				for _, op := range r.ops {
					if op.delete {
						// The index must be whole for the delete to point
						// its entries elsewhere.
						if !flushed {
							if err := putIDs(tx, s.ids.sorted()); err != nil {
								return err
							}
							flushed = true
						}
						if err := putIDs(tx, waiting); err != nil {
							return err
						}
						waiting = nil
					}
					if err := put(tx, op); err != nil {
						return err
					}
					if op.trial != "" {
						waiting = append(waiting, idEntry{op.trial, idValue(op.sweep, []byte(op.key))})
					}
				}
			}
			return markWaiting(tx, waited, (waited && !flushed) || len(waiting) > 0)
		})
	})
	if err == nil {
		if flushed {
			s.ids.clear()
		}
		s.ids.add(waiting)
	}
	if errors.Is(err, ErrDamaged) {
		s.broken.CompareAndSwap(nil, &err)
	}
	s.commits.record(n, time.Since(start), err == nil)
	if err != nil {
		return fmt.Errorf("commit %d ops: %w", n, err)
	}
	return nil
}

// How full bbolt fills the leaf pages it splits (its default, 0.5, suits
// random inserts). The settings last for one transaction and change the
// pages' layout, not what they hold; the trial-id index, which takes random
// inserts, keeps the default.
//
// A sweep's trials are written in Seq order, so their keys are appended; a
// lease then rewrites runs of consecutive records, each growing by its
// deadline and lease count (some 60 bytes on a record of 270), and a result
// shrinks it again. submitFill leaves room for that growth: a full page
// outgrown by a few bytes would split into a full page and an almost empty
// one, and bbolt never merges them again (TestRunPagesFilled saw the trial
// pages end 53% full). Later rewrites and the results, which arrive in Seq
// order from a few fronts (one per worker), fill pages whole.
const (
	submitFill = 0.8
	runFill    = 1.0
)

func put(tx *bolt.Tx, op Op) error {
	if op.delete {
		return deleteSweep(tx, op.sweep, op.copies)
	}
	b := tx.Bucket([]byte(op.bucket))
	if op.update != nil {
		if b = b.Bucket([]byte(op.sweep)); b == nil {
			return fmt.Errorf("update trial %s/%s: no trials stored for the sweep", op.sweep, op.update.ID)
		}
		b.FillPercent = 1.0 // see runFill
		v, err := op.update.apply(b.Get([]byte(op.key)))
		if err != nil {
			return err
		}
		op.value = v
	} else if op.sweep != "" {
		var err error
		if b, err = b.CreateBucketIfNotExists([]byte(op.sweep)); err != nil {
			return fmt.Errorf("bucket %s/%s: %w", op.bucket, op.sweep, err)
		}
		b.FillPercent = runFill
		if op.bucket == bucketTrials {
			b.FillPercent = submitFill
		}
	}
	if err := b.Put([]byte(op.key), op.value); err != nil {
		return fmt.Errorf("put %s/%s/%s: %w", op.bucket, op.sweep, op.key, err)
	}
	return nil // a result's index entry is written behind it (write, index.go)
}

// deleteSweep is DeleteSweepOp's write.
func deleteSweep(tx *bolt.Tx, sweep string, copies map[string]ResultRef) error {
	ids := tx.Bucket([]byte(bucketIDs))
	results := tx.Bucket([]byte(bucketResults))
	// The index entries that point into the sweep, found by one pass over
	// the index in key order (not a lookup per result: a million random
	// reads), then rewritten in that order.
	var orphaned [][]byte
	c := ids.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) > 8 && string(v[8:]) == sweep {
			orphaned = append(orphaned, append([]byte(nil), k...))
		}
	}
	for _, id := range orphaned { // point them at another sweep's copy, or drop them
		if ref, ok := copies[string(id)]; ok && ref.Sweep != sweep && results.Bucket([]byte(ref.Sweep)) != nil {
			// Reusable checks that the result there is of this trial.
			if err := ids.Put(id, idValue(ref.Sweep, []byte(seqKey(ref.Seq)))); err != nil {
				return fmt.Errorf("delete sweep %s: index: %w", sweep, err)
			}
			continue
		}
		if err := ids.Delete(id); err != nil {
			return fmt.Errorf("delete sweep %s: index: %w", sweep, err)
		}
	}
	if results.Bucket([]byte(sweep)) != nil {
		if err := results.DeleteBucket([]byte(sweep)); err != nil {
			return fmt.Errorf("delete sweep %s: results: %w", sweep, err)
		}
	}
	if tx.Bucket([]byte(bucketTrials)).Bucket([]byte(sweep)) != nil {
		if err := tx.Bucket([]byte(bucketTrials)).DeleteBucket([]byte(sweep)); err != nil {
			return fmt.Errorf("delete sweep %s: trials: %w", sweep, err)
		}
	}
	if err := tx.Bucket([]byte(bucketSweeps)).Delete([]byte(sweep)); err != nil {
		return fmt.Errorf("delete sweep %s: %w", sweep, err)
	}
	return nil
}

// CommitStats counts the committer's transactions.
type CommitStats struct {
	Commits int64         // transactions written (a failed one is not counted)
	Ops     int64         // puts written
	Busy    time.Duration // time spent in transactions, failed ones included
}

type stats struct {
	mu sync.Mutex
	CommitStats
}

func (st *stats) record(ops int, d time.Duration, written bool) {
	st.mu.Lock()
	if written {
		st.Commits++
		st.Ops += int64(ops)
	}
	st.Busy += d
	st.mu.Unlock()
}

// Stats returns the committer's counters.
func (s *Store) Stats() CommitStats {
	s.commits.mu.Lock()
	defer s.commits.mu.Unlock()
	return s.commits.CommitStats
}
