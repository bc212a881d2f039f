package store_test

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
)

// Results stored before bias_negative was named carry its test as
// threshold_learned, set for diverged runs too. They still decode: the old
// field is read as bias_negative, false for a diverged run, through both
// readers (Results and ResultsFor); new results never write the old name.
func TestLegacyThresholdLearned(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	trials := []store.Trial{
		{Sweep: "sw", ID: "negative", Seq: 0, State: store.Done},
		{Sweep: "sw", ID: "diverged", Seq: 1, State: store.Done},
		{Sweep: "sw", ID: "positive", Seq: 2, State: store.Done},
	}
	for _, tr := range trials {
		if err := s.Apply(must(store.TrialOp(tr))); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// The records exactly as the old code wrote them.
	old := []string{
		`{"trial":"negative","final_bias":-0.5,"min_bias":-0.5,"threshold_learned":true,"train_acc":0,"test_acc":0,"steps_run":5,"diverged":false,"trajectory":[{"step":0,"loss":1,"bias":0}]}`,
		`{"trial":"diverged","final_bias":-3e6,"min_bias":-3e6,"threshold_learned":true,"train_acc":0,"test_acc":0,"steps_run":5,"diverged":true,"trajectory":[{"step":0,"loss":1,"bias":0}]}`,
		`{"trial":"positive","final_bias":0.5,"min_bias":0,"threshold_learned":false,"train_acc":0,"test_acc":0,"steps_run":5,"diverged":false,"trajectory":[{"step":0,"loss":1,"bias":0}]}`,
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket([]byte("results")).CreateBucketIfNotExists([]byte("sw"))
		if err != nil {
			return err
		}
		for i, v := range old {
			var key [8]byte
			binary.BigEndian.PutUint64(key[:], uint64(i))
			if err := b.Put(key[:], []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := s.Results("sw")
	if err != nil {
		t.Fatal(err)
	}
	some, err := s.ResultsFor(trials)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"negative": true, "diverged": false, "positive": false}
	for name, read := range map[string]map[string]bool{"Results": negatives(all), "ResultsFor": negatives(some)} {
		if len(read) != len(want) {
			t.Fatalf("%s: %d results, want %d", name, len(read), len(want))
		}
		for id, w := range want {
			if read[id] != w {
				t.Errorf("%s: trial %s: bias_negative %v, want %v", name, id, read[id], w)
			}
		}
	}
}

func negatives(results map[string]engine.Result) map[string]bool {
	out := map[string]bool{}
	for id, r := range results {
		out[id] = r.BiasNegative
	}
	return out
}
