package store

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/engine/enginetest"
	"github.com/eosweep/eosweep/internal/testwait"
)

// indexed reports, for each id, whether the file's index bucket holds it,
// and whether the file says entries are waiting.
func indexed(t *testing.T, path string, ids []string) (in []bool, flagged bool) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for _, id := range ids {
			in = append(in, tx.Bucket([]byte(bucketIDs)).Get([]byte(id)) != nil)
		}
		flagged = tx.Bucket([]byte(bucketMeta)).Get([]byte(keyIDsPending)) != nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return in, flagged
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestIndexWrittenBehindResults: a committed result is reusable at once,
// while its index entry waits in memory; a crash then (the file as the
// committed transactions left it, copied while nothing else is written)
// loses the waiting entries but not the flag that says so, and opening that
// file indexes the results again; a clean Close writes them and clears the
// flag.
func TestIndexWrittenBehindResults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	s, err := Open(path, Options{NoSync: true, idleFlush: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var ops []Op
	for i := range 5 {
		tr := Trial{Sweep: "a", ID: fmt.Sprintf("trial%d", i), Seq: i, Params: map[string]float64{"eta": float64(i)}, Key: "k", State: Done}
		ids = append(ids, tr.ID)
		op, err := TrialOp(tr)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ResultOp(tr, enginetest.Result(1))
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op, res)
	}
	if err := s.Apply(ops...); err != nil {
		t.Fatal(err)
	}
	reusable := func(s *Store) int {
		t.Helper()
		got, err := s.Reusable(append(ids, "unknown"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, v := range got {
			if v != nil {
				n++
			}
		}
		return n
	}
	if n := reusable(s); n != 5 {
		t.Fatalf("%d results reusable while their entries wait, want 5", n)
	}
	crash := filepath.Join(dir, "crash.db")
	copyFile(t, path, crash)
	if in, flagged := indexed(t, crash, ids); !flagged || in[0] {
		t.Fatalf("crash copy: flag %v, first entry indexed %v; want the flag and no entry (the entries were waiting)", flagged, in[0])
	}
	c, err := Open(crash, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := reusable(c); n != 5 {
		t.Fatalf("after the crash %d results reusable, want 5", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if in, flagged := indexed(t, crash, ids); flagged || !all(in) {
		t.Fatalf("crash copy reopened: flag %v, indexed %v; want every entry and no flag", flagged, in)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if in, flagged := indexed(t, path, ids); flagged || !all(in) {
		t.Fatalf("after Close: flag %v, indexed %v; want every entry and no flag", flagged, in)
	}
}

// TestIndexFlushedWhenIdle: waiting entries reach the file once no write
// has come for the idle delay.
func TestIndexFlushedWhenIdle(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path, Options{NoSync: true, idleFlush: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tr := Trial{Sweep: "a", ID: "t", Key: "k", State: Done}
	res, err := ResultOp(tr, enginetest.Result(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(res); err != nil {
		t.Fatal(err)
	}
	testwait.Poll(t, "the idle flush", 10*time.Second, func() bool { return s.ids.len() == 0 })
	var ref []byte
	if err := s.view(func(tx *bolt.Tx) error {
		ref = append(ref, tx.Bucket([]byte(bucketIDs)).Get([]byte("t"))...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ref, idValue("a", []byte(seqKey(0)))) {
		t.Fatalf("index entry %q after the idle flush", ref)
	}
}

func all(in []bool) bool {
	for _, b := range in {
		if !b {
			return false
		}
	}
	return len(in) > 0
}
