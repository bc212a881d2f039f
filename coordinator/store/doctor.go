package store

import (
	"context"
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/eosweep/eosweep/coordinator/store/boltcheck"
)

// maxRecordProblems and maxBoltProblems bound what a Diagnosis lists.
const (
	maxRecordProblems = 20
	maxBoltProblems   = 20
)

// Diagnosis is what Doctor found in a store file.
type Diagnosis struct {
	Path string
	// Structure is the full walk of the file's pages (package boltcheck).
	Structure boltcheck.Report
	// BoltCheck lists what bbolt's own Tx.Check found (at most 20); it runs
	// only on a file whose structure is sound, where it cannot fault.
	BoltCheck []string
	// BoltChecked is whether Tx.Check ran.
	BoltChecked bool
	// Sweeps, Trials and Results count the records read; RecordsChecked is
	// whether they were (only in a file bbolt could check).
	Sweeps, Trials, Results int
	RecordsChecked          bool
	// Records counts records that do not decode or are misplaced;
	// RecordProblems describes up to 20 of them.
	Records        int
	RecordProblems []string
}

// OK reports whether the file passed every check that ran, and all ran.
func (d Diagnosis) OK() bool {
	return d.Structure.OK() && d.Structure.Complete && d.BoltChecked && len(d.BoltCheck) == 0 &&
		d.RecordsChecked && d.Records == 0
}

// Doctor checks the store file at path in full, without changing it: the
// structure of every page (boltcheck, reading the file rather than mapping
// it, so damage cannot crash it), then, if that is sound, bbolt's Tx.Check
// and a decode of every record. The file must not be held by a running
// coordinator. The error is for a file that could not be examined (missing,
// locked, unreadable); damage is reported in the Diagnosis. ctx bounds the
// time it takes.
func Doctor(ctx context.Context, path string, opt Options) (Diagnosis, error) {
	d := Diagnosis{Path: path}
	if opt.Timeout == 0 {
		opt.Timeout = DefaultCheckTimeout
	}
	f, err := os.Open(path)
	if err != nil {
		return d, fmt.Errorf("doctor: %w", err)
	}
	defer f.Close()
	if err := lockShared(f, opt.Timeout); err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return d, fmt.Errorf("doctor %s: locked by another process (stop the coordinator first): %w", path, err)
		}
		return d, fmt.Errorf("doctor %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return d, fmt.Errorf("doctor: %w", err)
	}
	if st.Size() == 0 {
		return d, fmt.Errorf("doctor %s: the file is empty (not a store)", path)
	}
	if d.Structure, err = boltcheck.Check(ctx, f, st.Size()); err != nil {
		return d, fmt.Errorf("doctor %s: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return d, fmt.Errorf("doctor %s: %w", path, err)
	}
	if !d.Structure.OK() {
		return d, nil
	}
	// Sound structure: bbolt can read the file without faulting. The
	// shared lock stays held (bbolt's read-only lock is shared too).
	s, err := Open(path, Options{ReadOnly: true, Timeout: opt.Timeout, CheckTimeout: -1})
	if err != nil {
		return d, fmt.Errorf("doctor: %w", err)
	}
	defer s.Close()
	err = s.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() { // drained to the end: the check's goroutine exits
			if len(d.BoltCheck) < maxBoltProblems {
				d.BoltCheck = append(d.BoltCheck, err.Error())
			}
		}
		return nil
	})
	if err != nil {
		return d, fmt.Errorf("doctor %s: %w", path, err)
	}
	d.BoltChecked = true
	if len(d.BoltCheck) > 0 {
		return d, nil
	}
	if err := s.checkRecords(ctx, &d); err != nil {
		return d, fmt.Errorf("doctor %s: records: %w", path, err)
	}
	d.RecordsChecked = true
	return d, nil
}
