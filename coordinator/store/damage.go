package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/coordinator/store/boltcheck"
)

// ErrDamaged is wrapped by every error that found the store's file damaged:
// Open's structural check, and a read or write that bbolt could not do on a
// bad page. The message names the file and what to do.
var ErrDamaged = errors.New("store file is damaged")

// DefaultCheckTimeout bounds the walk of the file's pages at Open.
const DefaultCheckTimeout = 2 * time.Second

// damaged is the error for a damaged file at path.
func damaged(path, what string) error {
	return fmt.Errorf("%w: %s; run `eosweep doctor --db %s` for a full check, and restore the file from a copy "+
		"(eosweep cannot repair it)", ErrDamaged, what, path)
}

// precheck checks the file at path with boltcheck before bbolt maps it,
// holding a shared lock (a coordinator writing the file holds an exclusive
// one, so a half-written file is never judged). The meta page, the file's
// size and the freelist — what bbolt reads when it opens a file — are always
// checked; the walk of the tree stops after timeout (what it did not reach
// is guarded by the read paths). A missing or empty file passes: bbolt
// creates it.
func precheck(path string, lockTimeout, timeout time.Duration) (boltcheck.Report, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return boltcheck.Report{Complete: true}, nil
	}
	if err != nil {
		return boltcheck.Report{}, err
	}
	defer f.Close()
	if err := lockShared(f, lockTimeout); err != nil {
		return boltcheck.Report{}, err
	}
	st, err := f.Stat()
	if err != nil {
		return boltcheck.Report{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(timeout, 0))
	defer cancel()
	rep, err := boltcheck.Check(ctx, f, st.Size())
	if err != nil {
		return rep, fmt.Errorf("check: %w", err)
	}
	if !rep.OK() {
		return rep, damaged(path, rep.Summary())
	}
	return rep, nil
}

// guard runs fn, turning a panic or a memory fault in it into an ErrDamaged
// error: bbolt asserts on, or faults reading, a page that is not what it
// expects. Faults become panics for this goroutine only while fn runs
// (debug.SetPanicOnFault), so a file truncated under a running coordinator
// fails a read instead of killing the process with SIGBUS.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, fmt.Sprintf("bbolt failed on a page: %v", r))
		}
	}()
	return fn()
}

// view is db.View, guarded.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	return guard(s.path, func() error { return s.db.View(fn) })
}
