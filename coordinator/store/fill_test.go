package store_test

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/coordinator/store"
)

// TestTrialPagesFilled: a sweep's trials, written in Seq order as a submit
// writes them, fill their leaf pages (bbolt's default splits appended pages
// half full, so the bucket took about twice the pages), and they read back.
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
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var st bolt.BucketStats
	if err := db.View(func(tx *bolt.Tx) error {
		st = tx.Bucket([]byte("trials")).Bucket([]byte("sw")).Stats()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if st.KeyN != n {
		t.Fatalf("%d trials stored, want %d", st.KeyN, n)
	}
	fill := float64(st.LeafInuse) / float64(st.LeafAlloc)
	if fill < 0.9 {
		t.Fatalf("leaf pages %.0f%% full (%d pages, %d of %d bytes in use), want >= 90%%",
			100*fill, st.LeafPageN, st.LeafInuse, st.LeafAlloc)
	}
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
