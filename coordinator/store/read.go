package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/engine"
)

// Sweeps returns every sweep, oldest first.
func (s *Store) Sweeps() ([]Sweep, error) {
	var out []Sweep
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketSweeps)).ForEach(func(k, v []byte) error {
			var sw Sweep
			if err := json.Unmarshal(v, &sw); err != nil {
				return fmt.Errorf("decode sweep %s: %w", k, err)
			}
			out = append(out, sw)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read sweeps: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Sweep returns one sweep, or ErrNotFound.
func (s *Store) Sweep(id string) (Sweep, error) {
	var sw Sweep
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketSweeps)).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("sweep %q: %w", id, ErrNotFound)
		}
		return json.Unmarshal(v, &sw)
	})
	if err != nil {
		return Sweep{}, fmt.Errorf("read sweep: %w", err)
	}
	return sw, nil
}

// Trials returns the trials of a sweep in insertion order.
func (s *Store) Trials(sweep string) ([]Trial, error) { return s.TrialRange(sweep, 0, math.MaxInt) }

// Reusable returns, for each of the trial ids given, the stored result of a
// trial of that id in any sweep (nil where there is none), in one read
// transaction: a trial's id is a hash of its resolved configuration, and
// results are deterministic, so a new sweep's trial takes it as its own.
func (s *Store) Reusable(ids []string) ([][]byte, error) {
	out := make([][]byte, len(ids))
	// The waiting index entries are read before the transaction begins: an
	// entry flushed meanwhile was flushed before it, and is in its view.
	waiting := s.ids.lookup(ids)
	err := s.view(func(tx *bolt.Tx) error {
		idx := tx.Bucket([]byte(bucketIDs))
		if idx == nil { // a read-only view of a file of schema 1
			return nil
		}
		for i, id := range ids {
			var ref []byte
			if waiting != nil {
				ref = waiting[i]
			}
			if ref == nil {
				ref = idx.Get([]byte(id))
			}
			if len(ref) <= 8 {
				continue
			}
			b := tx.Bucket([]byte(bucketResults)).Bucket(ref[8:])
			if b == nil {
				continue
			}
			v := b.Get(ref[:8])
			if v == nil {
				continue
			}
			if got, err := resultTrial(v); err != nil || got != id {
				continue // not the result indexed: not reused
			}
			out[i] = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read reusable results: %w", err)
	}
	return out, nil
}

// TrialRef names a stored trial: its Seq, checked against its ID.
type TrialRef struct {
	Seq int
	ID  string
}

// TrialsAt returns the records of the given trials of a sweep, in the order
// given, in one read transaction (a lease batch's parameters).
func (s *Store) TrialsAt(sweep string, refs []TrialRef) ([]Trial, error) {
	out := make([]Trial, len(refs))
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketTrials)).Bucket([]byte(sweep))
		for i, r := range refs {
			var v []byte
			if b != nil {
				v = b.Get([]byte(seqKey(r.Seq)))
			}
			if v == nil {
				return fmt.Errorf("trial %s/%s: not stored at seq %d", sweep, r.ID, r.Seq)
			}
			if err := json.Unmarshal(v, &out[i]); err != nil {
				return fmt.Errorf("decode trial %s/%s: %w", sweep, r.ID, err)
			}
			if out[i].ID != r.ID {
				return fmt.Errorf("trial %s/%s: seq %d holds trial %s", sweep, r.ID, r.Seq, out[i].ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read trials: %w", err)
	}
	return out, nil
}

// TrialRange returns up to n trials of a sweep from Seq from on, in Seq
// order, in one read transaction.
func (s *Store) TrialRange(sweep string, from, n int) ([]Trial, error) {
	var out []Trial
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketTrials)).Bucket([]byte(sweep))
		if b == nil || n <= 0 {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek([]byte(seqKey(max(from, 0)))); k != nil && len(out) < n; k, v = c.Next() {
			var t Trial
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("decode trial %s/%x: %w", sweep, k, err)
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read trials: %w", err)
	}
	return out, nil
}

// trialHead is a trial record without its parameters and key.
type trialHead struct {
	ID        string     `json:"id"`
	Seq       int        `json:"seq"`
	State     TrialState `json:"state"`
	Attempt   int        `json:"attempt"`
	Deadline  time.Time  `json:"deadline,omitzero"`
	LastError string     `json:"last_error,omitempty"`
	Round     int        `json:"round"`
	Steps     int        `json:"steps,omitempty"`
	LeaseSeq  int        `json:"lease_seq,omitempty"`
}

// EachTrialHead calls fn with each trial of a sweep in Seq order, decoded
// without its Params and Key — but for a record stored without its resolved
// Steps (before they were recorded), which is decoded whole. It is what a
// restart reads: one read transaction, nothing held but the current record.
func (s *Store) EachTrialHead(sweep string, fn func(Trial) error) error {
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketTrials)).Bucket([]byte(sweep))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var h trialHead
			if !decodeHead(v, &h) {
				h = trialHead{}
				if err := json.Unmarshal(v, &h); err != nil {
					return fmt.Errorf("decode trial %s/%x: %w", sweep, k, err)
				}
			}
			t := Trial{Sweep: sweep, ID: h.ID, Seq: h.Seq, State: h.State, Attempt: h.Attempt,
				Deadline: h.Deadline, LastError: h.LastError, Round: h.Round, Steps: h.Steps, LeaseSeq: h.LeaseSeq}
			if h.Steps == 0 {
				if err := json.Unmarshal(v, &t); err != nil {
					return fmt.Errorf("decode trial %s/%x: %w", sweep, k, err)
				}
			}
			return fn(t)
		})
	})
	if err != nil {
		return fmt.Errorf("read trials: %w", err)
	}
	return nil
}

// Results returns the stored results of a sweep by trial id.
func (s *Store) Results(sweep string) (map[string]engine.Result, error) {
	return s.results(sweep, FullResults)
}

// results reads a sweep's results by trial id, decoded as fields says.
func (s *Store) results(sweep string, fields ResultFields) (map[string]engine.Result, error) {
	out := map[string]engine.Result{}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketResults)).Bucket([]byte(sweep))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			id, r, err := decodeResult(v, fields)
			if err != nil {
				return fmt.Errorf("decode result %s/%x: %w", sweep, k, err)
			}
			out[id] = r
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	return out, nil
}

// ResultCount returns how many results a sweep has stored.
func (s *Store) ResultCount(sweep string) (int, error) {
	n := 0
	err := s.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(bucketResults)).Bucket([]byte(sweep)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// ResultsFor returns the stored results of the given trials by trial id
// (trials without a result are absent from the map).
func (s *Store) ResultsFor(trials []Trial) (map[string]engine.Result, error) {
	return s.resultsFor(trials, FullResults)
}

// resultsFor is ResultsFor with the results decoded as fields says.
func (s *Store) resultsFor(trials []Trial, fields ResultFields) (map[string]engine.Result, error) {
	out := make(map[string]engine.Result, len(trials))
	err := s.view(func(tx *bolt.Tx) error {
		for _, t := range trials {
			b := tx.Bucket([]byte(bucketResults)).Bucket([]byte(t.Sweep))
			if b == nil {
				continue
			}
			v := b.Get([]byte(seqKey(t.Seq)))
			if v == nil {
				continue
			}
			id, r, err := decodeResult(v, fields)
			if err != nil {
				return fmt.Errorf("decode result %s/%s: %w", t.Sweep, t.ID, err)
			}
			if id != t.ID {
				return fmt.Errorf("result %s/%d belongs to trial %s, not %s", t.Sweep, t.Seq, id, t.ID)
			}
			out[t.ID] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	return out, nil
}

// undecoded stands for the id of a trial record that did not decode.
const undecoded = "\x00"

// checkRecords decodes every record of the file (doctor's last pass): it
// counts them and describes, up to maxRecordProblems, those that do not
// decode or do not belong where they are stored.
func (s *Store) checkRecords(ctx context.Context, d *Diagnosis) error {
	bad := func(format string, args ...any) {
		d.Records++
		if len(d.RecordProblems) < maxRecordProblems {
			d.RecordProblems = append(d.RecordProblems, fmt.Sprintf(format, args...))
		}
	}
	return s.view(func(tx *bolt.Tx) error {
		for _, b := range []string{bucketSweeps, bucketTrials, bucketResults} {
			if tx.Bucket([]byte(b)) == nil {
				bad("no %s bucket", b)
				return nil
			}
		}
		n := 0
		tick := func() error {
			if n++; n%1024 == 0 {
				return ctx.Err()
			}
			return nil
		}
		sweeps := map[string]bool{}
		err := tx.Bucket([]byte(bucketSweeps)).ForEach(func(k, v []byte) error {
			var sw Sweep
			if err := json.Unmarshal(v, &sw); err != nil {
				bad("sweeps/%s: %v", k, err)
			} else if sw.ID != string(k) {
				bad("sweeps/%s: holds sweep %q", k, sw.ID)
			}
			sweeps[string(k)] = true
			d.Sweeps++
			return tick()
		})
		if err != nil {
			return err
		}
		ids := map[string]map[string]string{} // sweep → seq key → trial id
		err = tx.Bucket([]byte(bucketTrials)).ForEachBucket(func(sweep []byte) error {
			if !sweeps[string(sweep)] {
				bad("trials/%s: no such sweep", sweep)
			}
			seqs := map[string]string{}
			ids[string(sweep)] = seqs
			return tx.Bucket([]byte(bucketTrials)).Bucket(sweep).ForEach(func(k, v []byte) error {
				var t Trial
				switch err := json.Unmarshal(v, &t); {
				case err != nil:
					bad("trials/%s/%x: %v", sweep, k, err)
					t.ID = undecoded
				case t.Sweep != string(sweep) || seqKey(t.Seq) != string(k):
					bad("trials/%s/%x: holds trial %s/%d", sweep, k, t.Sweep, t.Seq)
				case !t.State.Valid():
					bad("trials/%s/%s: state %d is not a trial state", sweep, t.ID, t.State)
				}
				seqs[string(k)] = t.ID
				d.Trials++
				return tick()
			})
		})
		if err != nil {
			return err
		}
		return tx.Bucket([]byte(bucketResults)).ForEachBucket(func(sweep []byte) error {
			return tx.Bucket([]byte(bucketResults)).Bucket(sweep).ForEach(func(k, v []byte) error {
				var r storedResult
				if err := json.Unmarshal(v, &r); err != nil {
					bad("results/%s/%x: %v", sweep, k, err)
				} else if id, ok := ids[string(sweep)][string(k)]; id != undecoded && (!ok || id != r.Trial) {
					bad("results/%s/%x: result of trial %s, stored where trial %q is", sweep, k, r.Trial, id)
				}
				d.Results++
				return tick()
			})
		})
	})
}
