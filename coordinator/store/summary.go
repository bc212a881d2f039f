package store

import (
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/engine"
)

// ResultFields says how much of each stored result a read decodes.
type ResultFields uint8

const (
	// FullResults decodes every field, the trajectory included.
	FullResults ResultFields = iota
	// Summaries decodes results as Summary returns them: the trajectory is
	// skipped while decoding, never built.
	Summaries
)

// Summary is a result as the boundary analysis and the report's figures
// read it: without its trajectory (up to engine.MaxTrajectory points, most
// of a stored result). A result stored before max_eos_ratio_after_init
// existed (0) keeps, of its trajectory, the one point the figures take that
// value from instead: the largest sharpness measured after step 0 (none when
// there is no such measurement). Trajectories are read whole where they are
// shown: a trial's own page, its trajectory figure, trajectories.csv.
func Summary(r engine.Result) engine.Result {
	traj := r.Trajectory
	r.Trajectory = nil
	if r.MaxEOSRatioAfterInit > 0 {
		return r
	}
	best := -1
	for i, p := range traj {
		if p.Step > 0 && p.Sharpness > 0 && (best < 0 || p.Sharpness > traj[best].Sharpness) {
			best = i
		}
	}
	if best >= 0 {
		r.Trajectory = []engine.Point{traj[best]}
	}
	return r
}

// skippedTrajectory stands for a result's trajectory while a summary is
// decoded: encoding/json checks the value but builds nothing. raw is the
// value's bytes in the record decoded (not a copy: valid while it is).
type skippedTrajectory struct{ raw []byte }

func (s *skippedTrajectory) UnmarshalJSON(b []byte) error {
	s.raw = b
	return nil
}

// summaryRecord is a stored result decoded without its trajectory: its
// Trajectory field is shallower than the embedded result's, so it takes the
// "trajectory" key.
type summaryRecord struct {
	storedResult
	Trajectory skippedTrajectory `json:"trajectory"`
}

// decodeResult decodes a stored result as fields says, returning the id of
// the trial it belongs to. v need only be valid during the call.
func decodeResult(v []byte, fields ResultFields) (string, engine.Result, error) {
	if fields == FullResults {
		var r storedResult
		if err := json.Unmarshal(v, &r); err != nil {
			return "", engine.Result{}, err
		}
		return r.Trial, r.result(), nil
	}
	var s summaryRecord
	if err := json.Unmarshal(v, &s); err != nil {
		return "", engine.Result{}, err
	}
	r := s.result()
	if r.MaxEOSRatioAfterInit == 0 && len(s.Trajectory.raw) > 0 { // an older result: Summary keeps a point of it
		if err := json.Unmarshal(s.Trajectory.raw, &r.Trajectory); err != nil {
			return "", engine.Result{}, err
		}
	}
	return s.Trial, Summary(r), nil
}

// errStopped ends a walk whose callback failed; the callback's error is
// returned instead.
var errStopped = errors.New("stopped")

// EachTrialResult calls fn with each trial of a sweep in Seq order and its
// stored result (nil when it has none), decoded as fields says, in one read
// transaction: nothing is held but the current trial and result, so a sweep
// of any size is read in bounded memory. fn's error stops the walk and is
// returned as it is.
func (s *Store) EachTrialResult(sweep string, fields ResultFields, fn func(Trial, *engine.Result) error) error {
	var stop error
	err := s.view(func(tx *bolt.Tx) error {
		tb := tx.Bucket([]byte(bucketTrials)).Bucket([]byte(sweep))
		if tb == nil {
			return nil
		}
		rb := tx.Bucket([]byte(bucketResults)).Bucket([]byte(sweep))
		return tb.ForEach(func(k, v []byte) error {
			var t Trial
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("decode trial %s/%x: %w", sweep, k, err)
			}
			var res *engine.Result
			if rv := getIn(rb, k); rv != nil {
				id, r, err := decodeResult(rv, fields)
				if err != nil {
					return fmt.Errorf("decode result %s/%s: %w", sweep, t.ID, err)
				}
				if id != t.ID {
					return fmt.Errorf("result %s/%d belongs to trial %s, not %s", sweep, t.Seq, id, t.ID)
				}
				res = &r
			}
			if err := fn(t, res); err != nil {
				stop = err
				return errStopped
			}
			return nil
		})
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		return fmt.Errorf("read trials and results: %w", err)
	}
	return nil
}

// getIn is b.Get(k), nil for no bucket.
func getIn(b *bolt.Bucket, k []byte) []byte {
	if b == nil {
		return nil
	}
	return b.Get(k)
}

// SummariesFor is ResultsFor with each result decoded as Summary returns it.
func (s *Store) SummariesFor(trials []Trial) (map[string]engine.Result, error) {
	return s.resultsFor(trials, Summaries)
}
