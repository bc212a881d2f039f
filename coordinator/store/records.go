package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/eosweep/eosweep/engine"
)

// TrialState is the lifecycle state of a trial.
type TrialState uint8

// Trial states. The numbering matches proto TrialState.
const (
	Pending   TrialState = 1
	Leased    TrialState = 2
	Done      TrialState = 3
	Failed    TrialState = 4
	Cancelled TrialState = 5

	// NumTrialStates sizes arrays indexed by TrialState (index 0, the zero
	// value, is no state).
	NumTrialStates = int(Cancelled) + 1
)

var trialStateNames = map[TrialState]string{
	Pending: "PENDING", Leased: "LEASED", Done: "DONE", Failed: "FAILED", Cancelled: "CANCELLED",
}

// Valid reports whether s is one of the trial states.
func (s TrialState) Valid() bool { return s >= Pending && s <= Cancelled }

func (s TrialState) String() string {
	if n, ok := trialStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("TrialState(%d)", uint8(s))
}

// Terminal reports whether no further transition is expected (cancelled
// trials resume only when the sweep is resubmitted).
func (s TrialState) Terminal() bool { return s == Done || s == Failed || s == Cancelled }

// SweepState is the lifecycle state of a sweep. The numbering matches proto SweepState.
type SweepState uint8

// Sweep states.
const (
	SweepRunning   SweepState = 1
	SweepDone      SweepState = 2
	SweepCancelled SweepState = 3
)

func (s SweepState) String() string {
	switch s {
	case SweepRunning:
		return "RUNNING"
	case SweepDone:
		return "DONE"
	case SweepCancelled:
		return "CANCELLED"
	}
	return fmt.Sprintf("SweepState(%d)", uint8(s))
}

// Sweep is a stored sweep.
type Sweep struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Model    string     `json:"model"`
	SpecYAML string     `json:"spec_yaml"`
	State    SweepState `json:"state"`
	// Round is the current refinement round (0 = the grid).
	Round   int       `json:"round"`
	Created time.Time `json:"created"`
	// MaxTrials is the trial limit the sweep was submitted under (0 in
	// sweeps stored before it was recorded). It is submit-time policy: a
	// stored sweep is never checked against it again.
	MaxTrials int `json:"max_trials,omitempty"`
	// Reused counts the trials that were DONE at submit with a result
	// another sweep had stored for a trial of the same id.
	Reused int `json:"reused,omitempty"`
}

// Trial is a stored trial.
type Trial struct {
	Sweep string `json:"sweep"`
	ID    string `json:"id"`
	// Seq orders the trials of a sweep by insertion.
	Seq int `json:"seq"`
	// Params are the input parameters given to engine.Resolve.
	Params    map[string]float64 `json:"params"`
	Key       string             `json:"key"`
	State     TrialState         `json:"state"`
	Attempt   int                `json:"attempt"`
	Deadline  time.Time          `json:"deadline,omitzero"`
	LastError string             `json:"last_error,omitempty"`
	Round     int                `json:"round"`
	// Steps is the resolved step count a result is checked against
	// (spec.NoSteps for an exec trial), so a restart need not resolve the
	// parameters again; 0 in trials stored before it was recorded.
	Steps int `json:"steps,omitempty"`
	// LeaseSeq counts the leases the trial was ever given: unlike Attempt it
	// is never reset or decremented, so a lease token (which includes it) is
	// never issued twice. 0 in records of stores before it was added.
	LeaseSeq int `json:"lease_seq,omitempty"`
}

// Op is one pre-encoded put, built by SweepOp, TrialOp or ResultOp, or an
// update of a stored trial's state, built by UpdateOp.
type Op struct {
	bucket string // bucketSweeps, bucketTrials or bucketResults
	sweep  string // nested bucket for trials and results
	key    string
	value  []byte
	update *TrialUpdate // set: a read-modify-write of the trial record at key
	trial  string       // of a result: its trial's id, indexed in bucketIDs
	delete bool         // set: delete the sweep sweep, its trials and results
	copies map[string]ResultRef
}

// ResultRef names a stored result: its sweep, and its trial's Seq there.
type ResultRef struct {
	Sweep string
	Seq   int
}

// DeleteSweepOp deletes a sweep with its trials and results. A trial id the
// index pointed at one of its results is pointed at copies[id], another
// sweep's result of that trial, if it is given and stored there, or dropped:
// the other sweeps keep their own results and what can be reused from them.
// (The scheduler knows which other sweeps hold a trial DONE; the store
// would have to read every other sweep's results to find out.)
func DeleteSweepOp(sweep string, copies map[string]ResultRef) Op {
	return Op{bucket: bucketSweeps, sweep: sweep, key: sweep, delete: true, copies: copies}
}

// TrialUpdate is the part of a trial record that changes after it is
// written: what the scheduler keeps in memory. The rest of the record (its
// parameters and canonical key) stays as it was written.
type TrialUpdate struct {
	Sweep     string
	ID        string
	Seq       int
	State     TrialState
	Attempt   int
	Deadline  time.Time
	LastError string
	LeaseSeq  int
}

// UpdateOp sets the state fields of a stored trial, leaving the rest of its
// record as it is. Its transaction fails if the trial is not stored at u.Seq
// under u.ID.
func UpdateOp(u TrialUpdate) Op {
	return Op{bucket: bucketTrials, sweep: u.Sweep, key: seqKey(u.Seq), update: &u}
}

// rawTrial is a trial record with its parameters and key left encoded: an
// update decodes and re-encodes only the fields it sets. Its fields are
// Trial's, in Trial's order, so the bytes of the fields it does not set are
// written back unchanged.
type rawTrial struct {
	Sweep     string          `json:"sweep"`
	ID        string          `json:"id"`
	Seq       int             `json:"seq"`
	Params    json.RawMessage `json:"params"`
	Key       json.RawMessage `json:"key"`
	State     TrialState      `json:"state"`
	Attempt   int             `json:"attempt"`
	Deadline  time.Time       `json:"deadline,omitzero"`
	LastError string          `json:"last_error,omitempty"`
	Round     int             `json:"round"`
	Steps     int             `json:"steps,omitempty"`
	LeaseSeq  int             `json:"lease_seq,omitempty"`
}

// apply returns the stored record old with u's fields set.
func (u *TrialUpdate) apply(old []byte) ([]byte, error) {
	if old == nil {
		return nil, fmt.Errorf("update trial %s/%s: no trial stored at seq %d", u.Sweep, u.ID, u.Seq)
	}
	if v, ok := u.spliceUpdate(old); ok {
		return v, nil
	}
	return u.applyJSON(old)
}

// applyJSON is apply through encoding/json: the definition of what
// spliceUpdate writes, and the path for any record it does not take.
func (u *TrialUpdate) applyJSON(old []byte) ([]byte, error) {
	var r rawTrial
	if err := json.Unmarshal(old, &r); err != nil {
		return nil, fmt.Errorf("update trial %s/%s: decode the stored record: %w", u.Sweep, u.ID, err)
	}
	if r.ID != u.ID {
		return nil, fmt.Errorf("update trial %s/%s: seq %d holds trial %s", u.Sweep, u.ID, u.Seq, r.ID)
	}
	r.State, r.Attempt, r.Deadline, r.LastError, r.LeaseSeq = u.State, u.Attempt, u.Deadline, u.LastError, u.LeaseSeq
	v, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("update trial %s/%s: encode: %w", u.Sweep, u.ID, err)
	}
	return v, nil
}

// Size returns the bytes op writes (its key and value).
func (o Op) Size() int { return len(o.key) + len(o.value) }

// SweepOp stores s.
func SweepOp(s Sweep) (Op, error) {
	v, err := json.Marshal(s)
	if err != nil {
		return Op{}, fmt.Errorf("encode sweep %s: %w", s.ID, err)
	}
	return Op{bucket: bucketSweeps, key: s.ID, value: v}, nil
}

// TrialOp stores t under its Seq. Its value is json.Marshal(t)'s bytes,
// encoded without reflection (appendTrialJSON).
func TrialOp(t Trial) (Op, error) {
	v, ok := appendTrialJSON(make([]byte, 0, trialJSONSize(&t)), &t)
	if !ok {
		var err error
		if v, err = json.Marshal(t); err != nil {
			return Op{}, fmt.Errorf("encode trial %s/%s: %w", t.Sweep, t.ID, err)
		}
	}
	return Op{bucket: bucketTrials, sweep: t.Sweep, key: seqKey(t.Seq), value: v}, nil
}

// TrialOps is TrialOp of each of ts, in order, with their values encoded
// into shared buffers of about trialOpsChunk bytes and their keys cut from
// one string: a submit's batch of trials costs a few allocations, not two
// per trial. A value is never
// written to after it is encoded, so the ops are independent.
func TrialOps(ts []Trial) ([]Op, error) {
	ops := make([]Op, len(ts))
	keys := make([]byte, 0, 8*len(ts))
	for i := range ts {
		keys = binary.BigEndian.AppendUint64(keys, uint64(ts[i].Seq))
	}
	seqKeys := string(keys) // the ops' keys: substrings of one string
	var buf []byte
	for i := range ts {
		t := &ts[i]
		if size := trialJSONSize(t); cap(buf)-len(buf) < size {
			buf = make([]byte, 0, max(trialOpsChunk, size))
		}
		start := len(buf)
		next, ok := appendTrialJSON(buf, t)
		if !ok {
			op, err := TrialOp(*t)
			if err != nil {
				return nil, err
			}
			ops[i] = op
			continue
		}
		// next may have outgrown buf's array (the estimate was short): its
		// value is then in next's, and buf goes on from there.
		buf = next
		ops[i] = Op{bucket: bucketTrials, sweep: t.Sweep, key: seqKeys[8*i : 8*i+8], value: buf[start:len(buf):len(buf)]}
	}
	return ops, nil
}

// trialOpsChunk is the size of TrialOps's buffers.
const trialOpsChunk = 256 << 10

// trialJSONSize is a close upper estimate of the bytes of t's record, so
// that TrialOp allocates it once: the field names and numbers, and each
// parameter's name and value.
func trialJSONSize(t *Trial) int {
	return 192 + len(t.Sweep) + len(t.ID) + len(t.Key) + len(t.LastError) + len(t.Params)*40
}

// storedResult is a result as stored: tagged with its trial's id.
type storedResult struct {
	Trial string `json:"trial"`
	engine.Result
	// LegacyThresholdLearned is bias_negative's name in results stored
	// before it was renamed (set for diverged runs too); never written now.
	LegacyThresholdLearned *bool `json:"threshold_learned,omitempty"`
}

// result returns the stored engine result, with a legacy threshold_learned
// read as bias_negative (false for a diverged run).
func (s storedResult) result() engine.Result {
	r := s.Result
	if s.LegacyThresholdLearned != nil {
		r.BiasNegative = *s.LegacyThresholdLearned && !r.Diverged
	}
	return r
}

// ResultOp stores the result of trial t (its Sweep, ID and Seq are used).
func ResultOp(t Trial, r engine.Result) (Op, error) {
	v, err := json.Marshal(storedResult{Trial: t.ID, Result: r})
	if err != nil {
		return Op{}, fmt.Errorf("encode result %s/%s: %w", t.Sweep, t.ID, err)
	}
	return Op{bucket: bucketResults, sweep: t.Sweep, key: seqKey(t.Seq), value: v, trial: t.ID}, nil
}

// ReusedResultOp stores, as the result of trial t, a result another sweep
// stored for a trial of the same id (Store.Reusable): the bytes as they are.
func ReusedResultOp(t Trial, raw []byte) Op {
	return Op{bucket: bucketResults, sweep: t.Sweep, key: seqKey(t.Seq), value: raw, trial: t.ID}
}

// idValue is a trial_ids value: the result's seq key, then its sweep's id.
func idValue(sweep string, seq []byte) []byte {
	return append(append(make([]byte, 0, len(seq)+len(sweep)), seq...), sweep...)
}

// resultTrial returns the trial id of a stored result.
func resultTrial(v []byte) (string, error) {
	var r struct {
		Trial string `json:"trial"`
	}
	const prefix = `{"trial":"` // as ResultOp writes it
	if rest, ok := bytes.CutPrefix(v, []byte(prefix)); ok {
		if end := bytes.IndexByte(rest, '"'); end > 0 && bytes.IndexByte(rest[:end], '\\') < 0 {
			return string(rest[:end]), nil
		}
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return "", err
	}
	return r.Trial, nil
}

// seqKey is the bbolt key of a trial and its result: its Seq, big-endian.
// Trials are leased and finish roughly in Seq order, so the keys of one
// commit are neighbours and touch few pages (hashed ids would touch them all).
func seqKey(seq int) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seq))
	return string(b[:])
}
