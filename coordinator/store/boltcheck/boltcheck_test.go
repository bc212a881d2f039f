package boltcheck_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/coordinator/store/boltcheck"
)

// boltFile writes a bbolt file with n keys of 100 bytes in nested buckets
// and returns its bytes.
func boltFile(t *testing.T, n int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucket([]byte("top"))
		if err != nil {
			return err
		}
		small, err := tx.CreateBucket([]byte("inline"))
		if err != nil {
			return err
		}
		if err := small.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		for i := range n {
			sub, err := top.CreateBucketIfNotExists([]byte{byte(i % 7)})
			if err != nil {
				return err
			}
			if err := sub.Put([]byte{byte(i >> 8), byte(i)}, bytes.Repeat([]byte{'x'}, 100)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheck(t *testing.T) {
	t.Parallel()
	good := boltFile(t, 3000)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name     string
		ctx      context.Context
		data     []byte
		problem  string // "" for none
		complete bool
	}{
		{"healthy", context.Background(), good, "", true},
		{"empty file", context.Background(), nil, "", true},
		{"not bbolt", context.Background(), bytes.Repeat([]byte("eosweep!"), 2048), "neither meta page is valid", false},
		{"truncated", context.Background(), good[:len(good)/3], "it was truncated", false},
		// The walk stops, but what bbolt reads at open was checked.
		{"cancelled", cancelled, good, "", false},
		{"cancelled, truncated", cancelled, good[:len(good)/3], "it was truncated", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rep, err := boltcheck.Check(c.ctx, bytes.NewReader(c.data), int64(len(c.data)))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Complete != c.complete {
				t.Errorf("Complete = %v, want %v", rep.Complete, c.complete)
			}
			if c.problem == "" {
				if !rep.OK() {
					t.Fatalf("problems in a healthy file: %v", rep.Problems)
				}
				return
			}
			if rep.OK() || !strings.Contains(rep.Summary(), c.problem) {
				t.Fatalf("Summary() = %q, want it to say %q", rep.Summary(), c.problem)
			}
		})
	}
	rep, _ := boltcheck.Check(context.Background(), bytes.NewReader(good), int64(len(good)))
	if rep.Walked+rep.Free+2 != rep.Pages {
		t.Errorf("walked %d + free %d + 2 meta pages != %d pages", rep.Walked, rep.Free, rep.Pages)
	}
}
