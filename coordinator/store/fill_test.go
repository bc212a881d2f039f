package store_test

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine/enginetest"
)

// TestTrialPagesFilled: a sweep's trials, written in Seq order as a submit
// writes them, fill their leaf pages to submitFill, leaving room for the
// lease count a lease adds (bbolt's default splits appended pages half
// full, so the bucket took about twice the pages), and they read back.
func TestTrialPagesFilled(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	const n, batch = 6000, 2000
	for from := 0; from < n; from += batch {
		var ops []store.Op
		for i := from; i < from+batch; i++ {
			ops = append(ops, must(store.TrialOp(store.Trial{Sweep: "sw", ID: "t" + itoa(i), Seq: i,
				Params: map[string]float64{"eta": 0.001 * float64(i), "seed": float64(i), "steps": 1},
				Key:    "single eta=0.5 seed=" + itoa(i), State: store.Pending, Steps: 1})))
		}
		if err := s.Apply(ops...); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := sweepBucketStats(t, path, "trials")
	if st.KeyN != n {
		t.Fatalf("%d trials stored, want %d", st.KeyN, n)
	}
	fill := float64(st.LeafInuse) / float64(st.LeafAlloc)
	if fill < 0.75 {
		t.Fatalf("leaf pages %.0f%% full (%d pages, %d of %d bytes in use), want >= 75%%",
			100*fill, st.LeafPageN, st.LeafInuse, st.LeafAlloc)
	}
}

// sweepBucketStats reads the page statistics of sweep "sw"'s bucket in
// bucket ("trials" or "results") of the closed store file at path.
func sweepBucketStats(t *testing.T, path, bucket string) bolt.BucketStats {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var st bolt.BucketStats
	if err := db.View(func(tx *bolt.Tx) error {
		st = tx.Bucket([]byte(bucket)).Bucket([]byte("sw")).Stats()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

func itoa(i int) string {
	return string(appendInt(nil, i))
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// TestRunPagesFilled: a run rewrites every trial record twice (leased, then
// done; the records grow by a lease count, as the scheduler writes them)
// and writes a result per trial, as two workers deliver them: in Seq order
// from two fronts at once. The trials' and the results' pages stay filled.
// Before, the trial pages ended 53% full and the results' 48% (a record
// that outgrew its full page split it into a full and an almost empty one;
// results split pages half full), and a million-trial store took 2.0 GB.
func TestRunPagesFilled(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	const n, batch = 8000, 1000
	trials := make([]store.Trial, n)
	var ops []store.Op
	for i := range trials {
		trials[i] = store.Trial{Sweep: "sw", ID: "t" + itoa(i), Seq: i,
			Params: map[string]float64{"eta": 0.001 * float64(i), "seed": float64(i), "steps": 1},
			Key:    "single eta=0.5 seed=" + itoa(i), State: store.Pending, Steps: 1}
		ops = append(ops, must(store.TrialOp(trials[i])))
	}
	if err := s.Apply(ops...); err != nil {
		t.Fatal(err)
	}
	update := func(from, to int, state store.TrialState) []store.Op {
		var ops []store.Op
		for i := from; i < to; i++ {
			ops = append(ops, store.UpdateOp(store.TrialUpdate{Sweep: "sw", ID: trials[i].ID, Seq: i, State: state, Attempt: 1, LeaseSeq: 1}))
		}
		return ops
	}
	// Two workers lease alternate batches and report them in halves.
	for from := 0; from < n; from += 2 * batch {
		if err := s.Apply(append(update(from, from+batch, store.Leased), update(from+batch, from+2*batch, store.Leased)...)...); err != nil {
			t.Fatal(err)
		}
		for half := 0; half < batch; half += batch / 2 {
			var ops []store.Op
			for _, w := range []int{from, from + batch} {
				lo, hi := w+half, w+half+batch/2
				ops = append(ops, update(lo, hi, store.Done)...)
				for i := lo; i < hi; i++ {
					ops = append(ops, must(store.ResultOp(trials[i], enginetest.Result(1))))
				}
			}
			if err := s.Apply(ops...); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, bucket := range []string{"trials", "results"} {
		st := sweepBucketStats(t, path, bucket)
		if st.KeyN != n {
			t.Fatalf("%s: %d stored, want %d", bucket, st.KeyN, n)
		}
		fill, want := float64(st.LeafInuse)/float64(st.LeafAlloc), map[string]float64{"trials": 0.75, "results": 0.85}[bucket]
		t.Logf("%s: leaf pages %.0f%% full", bucket, 100*fill)
		if fill < want {
			t.Errorf("%s: leaf pages %.0f%% full (%d pages, %d of %d bytes in use), want >= %.0f%%",
				bucket, 100*fill, st.LeafPageN, st.LeafInuse, st.LeafAlloc, 100*want)
		}
	}
}
