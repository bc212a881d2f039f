package store

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// encodeCases are trial records whose encodings must be json.Marshal's.
func encodeCases() map[string]Trial {
	params := map[string]float64{"eta": 0.5, "seed": 7, "steps": 1, "x0": 1.5e-7, "big": 1e21, "small": 1e-6,
		"neg": math.Copysign(0, -1), "zero": 0, "huge": -math.MaxFloat64, "tiny": math.SmallestNonzeroFloat64, "e": 1.25e-10}
	return map[string]Trial{
		"pending":  {Sweep: "sw1", ID: "0123456789abcdef", Seq: 42, Params: params, Key: "single eta=0.5 seed=7", State: Pending, Steps: 1},
		"zero":     {},
		"nil map":  {Sweep: "s", ID: "t", Params: nil},
		"empty":    {Sweep: "s", ID: "t", Params: map[string]float64{}},
		"leased":   {Sweep: "s", ID: "t", Seq: math.MaxInt64, State: Leased, Attempt: 3, Deadline: time.Date(2026, 12, 1, 21, 0, 0, 123456789, time.UTC), Round: 2, Steps: -1, LeaseSeq: 9},
		"zone":     {Sweep: "s", ID: "t", Deadline: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))},
		"escapes":  {Sweep: "a\"b\\c", ID: "<&>", Key: "tab\there\nnl", LastError: "exit status 1: \u2028 \u00e9 \x00 \xff bad utf-8 </script>", State: Failed},
		"odd keys": {Sweep: "s", ID: "t", Params: map[string]float64{"é": 1, "a\"b": 2, "<": 3, "": 4}},
		"negative": {Sweep: "s", ID: "t", Seq: -1, Attempt: -2, Round: -3, LeaseSeq: -4},
	}
}

// TestAppendTrialJSONMatchesMarshal: TrialOp writes exactly the bytes
// json.Marshal gives for the record (stores written before read the same
// records; nothing a reader sees changes).
func TestAppendTrialJSONMatchesMarshal(t *testing.T) {
	t.Parallel()
	for name, tr := range encodeCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := json.Marshal(tr)
			if err != nil {
				t.Fatal(err)
			}
			op, err := TrialOp(tr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(op.value, want) {
				t.Fatalf("TrialOp wrote\n%s\njson.Marshal gives\n%s", op.value, want)
			}
		})
	}
}

// TestTrialOpRefusesNonFinite: a non-finite parameter is refused as
// json.Marshal refuses it, naming the trial.
func TestTrialOpRefusesNonFinite(t *testing.T) {
	t.Parallel()
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err := TrialOp(Trial{Sweep: "s", ID: "t", Params: map[string]float64{"eta": v}})
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("encode trial s/t")) {
			t.Fatalf("TrialOp with eta=%v: %v, want an encode error naming s/t", v, err)
		}
	}
}

// TestTrialOpAllocs: encoding a submit's trial record allocates its value
// and little else (json.Marshal took 10 allocations for this record: its
// reflection, the map's sorted keys and the copy of its buffer).
func TestTrialOpAllocs(t *testing.T) {
	tr := Trial{Sweep: "4f1c2a9e0b7d3c65", ID: "0123456789abcdef", Seq: 123456,
		Params: map[string]float64{"eta": 0.123, "seed": 999, "steps": 1}, Key: "single a_scale=1 b0=0 eta=0.123 seed=999 steps=1",
		State: Pending, Steps: 1}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := TrialOp(tr); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Fatalf("TrialOp: %v allocations per record, want <= 2", n)
	}
}

// FuzzAppendTrialJSON: for any strings and numbers, the record's bytes are
// json.Marshal's (or both refuse it).
func FuzzAppendTrialJSON(f *testing.F) {
	f.Add("sw", "id", "k", "single eta=0.5", "", 0.5, 1e-7, 3, int64(0))
	f.Add("<", "\u2028", "\xff", "a\"b", "exit 1\n", math.Copysign(0, -1), 1e300, -1, int64(1700000000))
	f.Fuzz(func(t *testing.T, sweep, id, pname, key, lastErr string, v1, v2 float64, seq int, unix int64) {
		tr := Trial{Sweep: sweep, ID: id, Seq: seq, Params: map[string]float64{pname: v1, "eta": v2}, Key: key,
			State: Leased, Attempt: seq % 5, LastError: lastErr, Round: seq / 3, Steps: seq * 2, LeaseSeq: seq}
		if unix != 0 {
			tr.Deadline = time.Unix(unix, unix%1e9)
		}
		want, werr := json.Marshal(tr)
		op, err := TrialOp(tr)
		if (werr != nil) != (err != nil) {
			t.Fatalf("json.Marshal: %v, TrialOp: %v", werr, err)
		}
		if err == nil && !bytes.Equal(op.value, want) {
			t.Fatalf("TrialOp wrote\n%s\njson.Marshal gives\n%s", op.value, want)
		}
	})
}

// TestTrialOpsMatchTrialOp: TrialOps gives each trial TrialOp's op, from
// shared buffers (a value written later does not touch an earlier one), and
// refuses what TrialOp refuses.
func TestTrialOpsMatchTrialOp(t *testing.T) {
	t.Parallel()
	var ts []Trial
	for range 3 { // past one chunk of the shared buffers
		for _, tr := range encodeCases() {
			ts = append(ts, tr)
		}
	}
	for i := range 3000 {
		ts = append(ts, Trial{Sweep: "sw", ID: "id", Seq: i, Params: map[string]float64{"eta": float64(i) / 7, "seed": float64(i)},
			Key: "single eta=x", State: Pending, Steps: 1})
	}
	ops, err := TrialOps(ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != len(ts) {
		t.Fatalf("%d ops for %d trials", len(ops), len(ts))
	}
	for i, tr := range ts {
		want, err := TrialOp(tr)
		if err != nil {
			t.Fatal(err)
		}
		if ops[i].bucket != want.bucket || ops[i].sweep != want.sweep || ops[i].key != want.key || !bytes.Equal(ops[i].value, want.value) {
			t.Fatalf("trial %d: TrialOps gave %+v, TrialOp %+v", i, ops[i], want)
		}
	}
	if _, err := TrialOps([]Trial{ts[0], {Sweep: "s", ID: "t", Params: map[string]float64{"eta": math.NaN()}}}); err == nil {
		t.Fatal("TrialOps encoded a NaN parameter")
	}
}

// TestTrialOpsAllocs: a batch of trials costs a few allocations, not one or
// more per trial.
func TestTrialOpsAllocs(t *testing.T) {
	ts := make([]Trial, 1000)
	for i := range ts {
		ts[i] = Trial{Sweep: "4f1c2a9e0b7d", ID: "0123456789abcdef", Seq: i, Params: map[string]float64{"eta": 0.5, "seed": float64(i), "steps": 1},
			Key: "single bias_eps=0.01 eta=0.5 horizon=0 init_scale=0.01 lanczos_iters=20 seed=0 sharpness_every=0 steps=1 x0=2", State: Pending, Steps: 1}
	}
	if n := testing.AllocsPerRun(10, func() {
		if _, err := TrialOps(ts); err != nil {
			t.Fatal(err)
		}
	}); n > 10 {
		t.Fatalf("TrialOps of %d trials: %v allocations, want <= 10", len(ts), n)
	}
}
