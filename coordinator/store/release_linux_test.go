package store_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/coordinator/store"
)

// TestReleaseMappedDropsResidentPages: reading a store's trials maps its
// pages into the process's resident set; ReleaseMapped takes them out of it
// again, and the trials still read back whole. (Not parallel: it measures
// the resident file pages of the mapping, which other tests' stores do not
// touch, but it reads this process's /proc/self/smaps.)
func TestReleaseMappedDropsResidentPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := store.Open(path, store.Options{NoSync: true, ReleaseEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 15000 // some 16 MB of trial pages
	ts := make([]store.Trial, n)
	for i := range ts {
		ts[i] = store.Trial{Sweep: "sw", ID: fmt.Sprintf("%016x", i), Seq: i, Params: map[string]float64{"eta": float64(i), "seed": 1},
			Key: strings.Repeat("k", 800), State: store.Pending, Steps: 1}
	}
	ops, err := store.TrialOps(ts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ops...); err != nil {
		t.Fatal(err)
	}
	readAll := func() {
		got, err := s.Trials("sw")
		if err != nil || len(got) != n {
			t.Fatalf("read %d trials, %v", len(got), err)
		}
	}
	readAll()
	before := mappedKB(t, path)
	if err := s.ReleaseMapped(); err != nil {
		t.Fatal(err)
	}
	after := mappedKB(t, path)
	t.Logf("resident pages of the mapping: %d kB after reading every trial, %d kB after ReleaseMapped", before, after)
	if before < 10<<10 {
		t.Fatalf("reading %d trials left only %d kB of the file resident", n, before)
	}
	if after > before/10 {
		t.Fatalf("ReleaseMapped left %d of %d kB resident", after, before)
	}
	readAll() // the pages map again
}

// mappedKB is the resident size of this process's mappings of path, from
// /proc/self/smaps.
func mappedKB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("SKIPPED: no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) >= 5 && strings.Contains(fields[0], "-") {
			in = len(fields) >= 6 && fields[len(fields)-1] == path
			continue
		}
		var kb int
		if in && strings.HasPrefix(line, "Rss:") {
			if _, err := fmt.Sscanf(strings.TrimPrefix(line, "Rss:"), "%d", &kb); err == nil {
				total += kb
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}
