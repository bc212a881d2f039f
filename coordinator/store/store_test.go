package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/coordinator/store/storetest"
	"github.com/eosweep/eosweep/engine"
)

// must unwraps an op constructor's result; the records in these tests always encode.
func must(op store.Op, err error) store.Op {
	if err != nil {
		panic(err)
	}
	return op
}

func TestReopenKeepsEverything(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	secret := append([]byte(nil), s.Secret()...)
	sw := store.Sweep{ID: "sw1", Name: "n", Model: "single", State: store.SweepRunning, Created: time.Unix(100, 0).UTC()}
	tr := store.Trial{Sweep: "sw1", ID: "t1", Params: map[string]float64{"eta": 1.5}, State: store.Done, Attempt: 2, Round: 1}
	res := engine.Result{FinalBias: -0.25, StepsRun: 7, Trajectory: []engine.Point{{Step: 0, Loss: 1, Bias: 0}}}
	err = s.Apply(must(store.SweepOp(sw)), must(store.TrialOp(tr)), must(store.ResultOp(tr, res)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if string(ro.Secret()) != string(secret) || len(secret) != 32 {
		t.Fatal("secret not kept")
	}
	sweeps, err := ro.Sweeps()
	if err != nil || len(sweeps) != 1 || sweeps[0] != sw {
		t.Fatalf("sweeps = %+v, %v", sweeps, err)
	}
	trials, err := ro.Trials("sw1")
	if err != nil || len(trials) != 1 || trials[0].Attempt != 2 || trials[0].Params["eta"] != 1.5 || trials[0].State != store.Done {
		t.Fatalf("trials = %+v, %v", trials, err)
	}
	results, err := ro.Results("sw1")
	if err != nil || results["t1"].FinalBias != -0.25 || results["t1"].StepsRun != 7 || len(results["t1"].Trajectory) != 1 {
		t.Fatalf("results = %+v, %v", results, err)
	}
	if err := ro.Apply(must(store.SweepOp(sw))); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("read-only Apply: %v", err)
	}
	if _, err := ro.Sweep("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown sweep: %v", err)
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte(fmt.Sprint(store.SchemaVersion+1)))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		if _, err := store.Open(path, store.Options{ReadOnly: ro}); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Errorf("readOnly=%v: Open = %v, want ErrSchemaTooNew", ro, err)
		}
	}
}

func TestReadOnlyRefusesForeignFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := store.Open(path, store.Options{ReadOnly: true}); !errors.Is(err, store.ErrNotStore) {
		t.Fatalf("Open = %v, want ErrNotStore", err)
	}
}

func TestLockedFileRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := store.Open(path, store.Options{Timeout: 50 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("a second writer on a locked file: %v", err)
	}
}

// TestGroupCommit: concurrent writers all get durable writes, in fewer
// transactions than writes, and each Apply group is atomic.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpen(t)
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("t%02d-%03d", w, i)
				tr := store.Trial{Sweep: "sw", ID: id, Seq: w*each + i, State: store.Done}
				res := engine.Result{StepsRun: w*each + i}
				if err := s.Apply(must(store.TrialOp(tr)), must(store.ResultOp(tr, res))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	trials, _ := s.Trials("sw")
	results, _ := s.Results("sw")
	if len(trials) != writers*each || len(results) != writers*each {
		t.Fatalf("%d trials, %d results, want %d", len(trials), len(results), writers*each)
	}
	for i, tr := range trials {
		if tr.Seq != i || results[tr.ID].StepsRun != tr.Seq {
			t.Fatalf("trial %d = %+v, result %+v", i, tr, results[tr.ID])
		}
	}
	st := s.Stats()
	if st.Ops != 2*writers*each {
		t.Fatalf("ops = %d", st.Ops)
	}
	if st.Commits >= writers*each {
		t.Errorf("%d commits for %d Apply calls: no grouping", st.Commits, writers*each)
	}
	t.Logf("%d Apply calls in %d commits", writers*each, st.Commits)
}

func TestApplyAfterClose(t *testing.T) {
	t.Parallel()
	s, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Apply(must(store.SweepOp(store.Sweep{ID: "x"}))); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Apply after Close = %v", err)
	}
}
