package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func spliceUpdates() map[string]TrialUpdate {
	deadline := time.Date(2026, 12, 1, 21, 0, 0, 123456789, time.UTC)
	return map[string]TrialUpdate{
		"lease":  {State: Leased, Attempt: 1, Deadline: deadline, LeaseSeq: 1},
		"done":   {State: Done, Attempt: 1, LeaseSeq: 1},
		"failed": {State: Failed, Attempt: 3, LastError: "exit status 1", LeaseSeq: 7},
		"escape": {State: Failed, Attempt: 3, LastError: "exit status 1: <oops> \u2028 \xff", LeaseSeq: 7},
		"back":   {State: Pending},
		"zone":   {State: Leased, Attempt: 2, Deadline: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), LeaseSeq: 2},
	}
}

// TestSpliceUpdateMatchesEncodingJSON: for every record this package writes
// and every kind of update, the splice gives exactly the bytes of the
// encoding/json path (or leaves the record to it), and it takes the records
// a sweep writes: plain ones, and each state a trial goes through.
func TestSpliceUpdateMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	spliced := 0
	for name, tr := range encodeCases() {
		for uname, u := range spliceUpdates() {
			u.Sweep, u.ID, u.Seq = tr.Sweep, tr.ID, tr.Seq
			old, err := TrialOp(tr)
			if err != nil {
				t.Fatal(err)
			}
			want, err := u.applyJSON(old.value)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, uname, err)
			}
			got, ok := u.spliceUpdate(old.value)
			if ok {
				spliced++
				if !bytes.Equal(got, want) {
					t.Errorf("%s/%s: splice wrote\n%s\nencoding/json writes\n%s", name, uname, got, want)
				}
			}
			// What a sweep's trials go through is spliced, record after
			// record (but a last error encoding/json escapes).
			if name == "pending" || name == "leased" || name == "negative" {
				if !ok {
					t.Errorf("%s/%s: left to encoding/json:\n%s", name, uname, old.value)
				}
				if uname == "escape" {
					continue
				}
				for vname, v := range spliceUpdates() {
					v.Sweep, v.ID, v.Seq = u.Sweep, u.ID, u.Seq
					want2, err := v.applyJSON(want)
					if err != nil {
						t.Fatal(err)
					}
					if got2, ok := v.spliceUpdate(want); !ok || !bytes.Equal(got2, want2) {
						t.Errorf("%s/%s/%s: splice %v\n%s\nwant\n%s", name, uname, vname, ok, got2, want2)
					}
				}
			}
		}
	}
	if spliced == 0 {
		t.Fatal("no record was spliced")
	}
}

// TestSpliceUpdateDeclines: records the splice must leave to encoding/json,
// which writes them otherwise or refuses them.
func TestSpliceUpdateDeclines(t *testing.T) {
	t.Parallel()
	const ok = `{"sweep":"s","id":"t","seq":1,"params":{"eta":0.5},"key":"k a=1","state":1,"attempt":0,"round":0,"steps":1}`
	u := TrialUpdate{Sweep: "s", ID: "t", Seq: 1, State: Done, Attempt: 1, LeaseSeq: 1}
	if _, spliced := u.spliceUpdate([]byte(ok)); !spliced {
		t.Fatalf("the plain record was not spliced")
	}
	for name, rec := range map[string]string{
		"white space":     strings.Replace(ok, `"seq":1`, `"seq": 1`, 1),
		"space in params": strings.Replace(ok, `{"eta":0.5}`, `{"eta": 0.5}`, 1),
		"bad params":      strings.Replace(ok, `{"eta":0.5}`, `{"eta":}`, 1),
		"escape":          strings.Replace(ok, `"k a=1"`, `"k \"a\"=1"`, 1),
		"html":            strings.Replace(ok, `"k a=1"`, `"k <a>=1"`, 1),
		"non-ascii":       strings.Replace(ok, `"k a=1"`, `"k é=1"`, 1),
		"other id":        strings.Replace(ok, `"id":"t"`, `"id":"u"`, 1),
		"leading zero":    strings.Replace(ok, `"seq":1`, `"seq":01`, 1),
		"minus zero":      strings.Replace(ok, `"round":0`, `"round":-0`, 1),
		"float":           strings.Replace(ok, `"attempt":0`, `"attempt":0.5`, 1),
		"state range":     strings.Replace(ok, `"state":1`, `"state":256`, 1),
		"zero steps":      strings.Replace(ok, `"steps":1`, `"steps":0`, 1),
		"out of order":    strings.Replace(ok, `"seq":1,"params":{"eta":0.5}`, `"params":{"eta":0.5},"seq":1`, 1),
		"unknown field":   strings.Replace(ok, `"round":0`, `"round":0,"extra":1`, 1),
		"missing round":   strings.Replace(ok, `,"round":0`, ``, 1),
		"duplicate":       strings.Replace(ok, `"round":0`, `"round":0,"round":1`, 1),
		"trailing":        ok + " ",
		"bad deadline":    strings.Replace(ok, `"attempt":0`, `"attempt":0,"deadline":"yesterday"`, 1),
		"deadline kind":   strings.Replace(ok, `"attempt":0`, `"attempt":0,"deadline":5`, 1),
		"not an object":   `[1]`,
		"empty":           `{}`,
		"truncated":       ok[:len(ok)-1],
	} {
		if got, spliced := u.spliceUpdate([]byte(rec)); spliced {
			t.Errorf("%s: spliced %s into %s", name, rec, got)
		}
	}
}

// FuzzSpliceUpdate: whatever the stored bytes, a record the splice takes is
// one encoding/json takes too, and both write the same bytes.
func FuzzSpliceUpdate(f *testing.F) {
	for _, tr := range encodeCases() {
		if op, err := TrialOp(tr); err == nil {
			f.Add(op.value, uint8(Leased), 1, "", int64(1700000000), 1)
		}
	}
	f.Add([]byte(`{"sweep":"s","id":"t","seq":1,"params":null,"key":"k","state":1,"attempt":0,"round":0}`), uint8(Done), 2, "boom", int64(0), 3)
	f.Fuzz(func(t *testing.T, old []byte, state uint8, attempt int, lastErr string, unix int64, leaseSeq int) {
		var r rawTrial
		if json.Unmarshal(old, &r) != nil {
			r.ID = "t"
		}
		u := TrialUpdate{Sweep: r.Sweep, ID: r.ID, Seq: r.Seq, State: TrialState(state), Attempt: attempt, LastError: lastErr, LeaseSeq: leaseSeq}
		if unix != 0 {
			u.Deadline = time.Unix(unix, unix%1e9).UTC()
		}
		got, ok := u.spliceUpdate(old)
		if !ok {
			return
		}
		want, err := u.applyJSON(old)
		if err != nil {
			t.Fatalf("spliced a record encoding/json refuses (%v):\n%s", err, old)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("record\n%s\nspliced to\n%s\nencoding/json writes\n%s", old, got, want)
		}
	})
}

// BenchmarkTrialUpdate: the rewrite of a trial record that every lease and
// every result costs the commit loop.
func BenchmarkTrialUpdate(b *testing.B) {
	tr := Trial{Sweep: "d3d4f1d6fc5f", ID: "b5fc6e95d82e8d96", Seq: 123456, Params: map[string]float64{"eta": 0.01, "seed": 0, "steps": 1},
		Key: "single bias_eps=0.01 eta=0.01 horizon=0 init_scale=0.01 lanczos_iters=20 seed=0 sharpness_every=0 steps=1 x0=2", State: Pending, Steps: 1}
	op, err := TrialOp(tr)
	if err != nil {
		b.Fatal(err)
	}
	u := TrialUpdate{Sweep: tr.Sweep, ID: tr.ID, Seq: tr.Seq, State: Leased, Attempt: 1, Deadline: time.Now(), LeaseSeq: 1}
	for _, bc := range []struct {
		name  string
		apply func([]byte) ([]byte, error)
	}{{"apply", u.apply}, {"encoding-json", u.applyJSON}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.apply(op.value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
