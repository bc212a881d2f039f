package scheduler

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
)

// gridSpec is a `single` sweep of one step over n seeds.
func gridSpec(n int) string {
	return "name: big\nmodel: single\ngrid:\n  eta: [0.5]\n  seed: {range: [0, " + itoa(n) + "]}\nparams: {steps: 1}\n"
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// TestSubmitWritesInBatches: a grid larger than one batch is written in
// several transactions (not one holding every trial), the sweep record last,
// with the limit it was submitted under.
func TestSubmitWritesInBatches(t *testing.T) {
	t.Parallel()
	const batch = 1000
	const n = 2*batch + 10
	s := newTestScheduler(t, nil, nil, Config{MaxTrials: 3 * batch})
	s.batch = batch
	before := s.st.Stats().Commits
	sw := submit(t, s, gridSpec(n))
	if got, want := s.st.Stats().Commits-before, int64(3+1); got < want {
		t.Fatalf("submit of %d trials took %d transactions, want >= %d (batches of %d, then the sweep)", n, got, want, batch)
	}
	stored, err := s.st.Sweep(sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.MaxTrials != 3*batch {
		t.Fatalf("stored MaxTrials %d, want %d", stored.MaxTrials, 3*batch)
	}
	trials, err := s.st.Trials(sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != n || trials[n-1].Seq != n-1 || trials[n-1].Steps != 1 {
		t.Fatalf("stored %d trials, last %+v", len(trials), trials[len(trials)-1])
	}
	if p := progress(t, s, sw.ID); p.Total != n || p.Pending != n {
		t.Fatalf("progress %+v", p)
	}
}

// TestSubmitLimitErrorNamesSizeAndFlag: a grid over the limit is refused
// with its size and the flag that raises the limit.
func TestSubmitLimitErrorNamesSizeAndFlag(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{MaxTrials: 1000})
	_, _, err := s.Submit([]byte("model: single\ngrid:\n  eta: [0.5, 1]\n  seed: {range: [0, 501]}\n"))
	if !errors.Is(err, spec.ErrInvalid) || !strings.Contains(err.Error(), "1,002 trials") || !strings.Contains(err.Error(), "--max-trials") {
		t.Fatalf("err = %v, want the grid size and --max-trials", err)
	}
}

// TestRestartOverDefaultLimit: a sweep larger than spec.DefaultMaxTrials,
// submitted under a raised limit, loads again under the default limit (the
// limit is never re-checked at load), and resubmitting it there resumes it.
func TestRestartOverDefaultLimit(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("SKIPPED with -short or -race: submits and reloads 100,001 trials")
	}
	t.Parallel()
	const n = spec.DefaultMaxTrials + 1
	path := tempDB(t)
	st := openStore(t, path)
	s, err := New(st, Config{MaxTrials: 2 * spec.DefaultMaxTrials})
	if err != nil {
		t.Fatal(err)
	}
	sw := submit(t, s, gridSpec(n))
	s.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openStore(t, path)
	t.Cleanup(func() { _ = st.Close() })
	s = newTestScheduler(t, st, nil, Config{}) // the default limit
	if p := progress(t, s, sw.ID); p.Total != n || p.Pending != n {
		t.Fatalf("after restart %+v, want %d pending", p, n)
	}
	again, created, err := s.Submit([]byte(gridSpec(n)))
	if err != nil || created || again.ID != sw.ID {
		t.Fatalf("resubmit under the default limit: %v, created %v, id %s (want %s resumed)", err, created, again.ID, sw.ID)
	}
	if again.State != store.SweepRunning || again.MaxTrials != 2*spec.DefaultMaxTrials {
		t.Fatalf("resumed sweep %+v", again)
	}
}

// etaSeedSpec is a `single` sweep of one step over a grid of etas × seeds η
// values in (0, 1) and seeds 0..seeds-1: the shape of the million-trial
// sweep of the scale test (1000 × 1000), smaller.
func etaSeedSpec(etas, seeds int) string {
	return "name: big\nmodel: single\ngrid:\n  eta: {linspace: [0.001, 0.999, " + itoa(etas) + "]}\n  seed: {range: [0, " +
		itoa(seeds) + "]}\nparams: {steps: 1}\n"
}

// BenchmarkSubmit: a streamed submit of a 100,000-trial grid of 100 η × 1000
// seeds (the scale test's shape), on a store without fsync (as the other
// benchmarks) and with it; ns/trial and trials/s reported.
//
//	go test -run XXX -bench Submit -benchtime 3x -count 3 ./coordinator/scheduler
func BenchmarkSubmit(b *testing.B) {
	const etas, seeds = 100, 1000
	const n = etas * seeds
	yaml := []byte(etaSeedSpec(etas, seeds))
	for _, mode := range []struct {
		name   string
		noSync bool
	}{{"nosync", true}, {"sync", false}} {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				st, err := store.Open(tempDB(b), store.Options{NoSync: mode.noSync})
				if err != nil {
					b.Fatal(err)
				}
				s, err := New(st, Config{MaxTrials: 2 * n})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				sw, _, err := s.Submit(yaml)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if info, err := s.Sweep(sw.ID); err != nil || info.Progress.Total != n {
					b.Fatalf("progress %+v, %v: want %d trials", info.Progress, err, n)
				}
				s.Close()
				_ = st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/trial")
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "trials/s")
		})
	}
}

// heapInuse is the heap in use after a collection.
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// maxBytesPerPendingTrial is what the scheduler may hold per pending trial
// (the issue asks for at most ~1 KB; the full records it held before took
// ~780 bytes; 257 before trialState moved what only a lease needs behind a
// pointer, 206 after).
const maxBytesPerPendingTrial = 300

// TestTrialStateSize: the struct held per trial fits the 128-byte size class
// (it was 176 bytes with the lease's token, worker and a second time field
// inline).
func TestTrialStateSize(t *testing.T) {
	t.Parallel()
	if n := unsafe.Sizeof(trialState{}); n > 128 {
		t.Fatalf("trialState is %d bytes, want <= 128", n)
	}
}

// TestPendingTrialMemory: the scheduler holds each pending trial compactly
// (no parameters, key or result): the heap grows by at most
// maxBytesPerPendingTrial per trial of a submitted sweep (100,000 trials;
// 20,000 with -short or -race), and by as little after a restart on the same
// file.
func TestPendingTrialMemory(t *testing.T) {
	// Not parallel: it measures the heap.
	n := 100_000
	if testing.Short() || raceEnabled {
		n = 20_000
	}
	path := tempDB(t)
	st := openStore(t, path)
	s, err := New(st, Config{MaxTrials: n})
	if err != nil {
		t.Fatal(err)
	}
	yaml := "model: single\ngrid:\n  eta: {logspace: [0.01, 10, " + itoa(n/100) + "]}\n  seed: {range: [0, 100]}\nparams: {steps: 1}\n"
	before := heapInuse()
	submit(t, s, yaml)
	perTrial := float64(int64(heapInuse())-int64(before)) / float64(n)
	runtime.KeepAlive(s)
	t.Logf("submit: %.0f bytes per pending trial (%d trials)", perTrial, n)
	if perTrial > maxBytesPerPendingTrial {
		t.Errorf("submit: %.0f bytes per pending trial, want <= %d", perTrial, maxBytesPerPendingTrial)
	}
	s.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	before = heapInuse()
	st = openStore(t, path)
	t.Cleanup(func() { _ = st.Close() })
	start := time.Now()
	s = newTestScheduler(t, st, nil, Config{})
	took := time.Since(start)
	perTrial = float64(int64(heapInuse())-int64(before)) / float64(n)
	runtime.KeepAlive(s)
	t.Logf("restart: %.0f bytes per pending trial, loaded in %v", perTrial, took)
	if perTrial > maxBytesPerPendingTrial {
		t.Errorf("restart: %.0f bytes per pending trial, want <= %d", perTrial, maxBytesPerPendingTrial)
	}
}

// TestRestartResolvesOldRecords: trial records written before they carried
// their resolved steps (today's main) load with the steps resolved from their
// parameters: results are checked against them as before.
func TestRestartResolvesOldRecords(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	st := openStore(t, path)
	s, err := New(st, Config{})
	if err != nil {
		t.Fatal(err)
	}
	sw := submit(t, s, fourTrials)
	s.Close()
	trials, err := st.Trials(sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range trials { // as the old code wrote them
		tr.Steps = 0
		op, err := store.TrialOp(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Apply(op); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path)
	t.Cleanup(func() { _ = st.Close() })
	s = newTestScheduler(t, st, nil, Config{})
	ls := lease(t, s, 2)
	if len(ls) != 2 || ls[0].Params["eta"] != 0.5 || ls[0].Params["steps"] != 5 {
		t.Fatalf("leases %+v", ls)
	}
	if r := deliverOne(t, s, ls[0], goodResult(-1)); r.Verdict != Accepted {
		t.Fatalf("result of 5 steps: %+v", r)
	}
	short := goodResult(-1)
	short.StepsRun = 4
	if r := deliverOne(t, s, ls[1], short); r.Verdict != Rejected {
		t.Fatalf("result of 4 steps for a 5-step trial: %+v, want Rejected", r)
	}
}

// TestCancelLargeSweepWritesInBatches: cancelling a sweep larger than one
// batch writes its trials in several bounded transactions (a batch the size
// of the committer's group is committed alone), and every trial is stored
// CANCELLED with its parameters intact.
func TestCancelLargeSweepWritesInBatches(t *testing.T) {
	t.Parallel()
	const batch, n = 8200, 2*8200 + 600
	s := newTestScheduler(t, nil, nil, Config{})
	s.batch = batch
	sw := submit(t, s, gridSpec(n))
	before := s.st.Stats().Commits
	if _, err := s.Cancel(sw.ID); err != nil {
		t.Fatal(err)
	}
	if got := s.st.Stats().Commits - before; got < 3 {
		t.Fatalf("cancel of %d trials in %d transactions, want >= 3 of at most %d ops", n, got, batch)
	}
	trials, err := s.st.Trials(sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range trials {
		if tr.State != store.Cancelled || tr.Params["seed"] != float64(tr.Seq) || tr.Key == "" {
			t.Fatalf("stored after cancel: %+v", tr)
		}
	}
}

// BenchmarkRestart: New on a store holding one sweep of 100,000 trials,
// 4,096 of them LEASED (re-armed for re-adoption).
func BenchmarkRestart(b *testing.B) {
	const n = 100_000
	path := tempDB(b)
	st := openStore(b, path)
	s, err := New(st, Config{MaxTrials: n})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := s.Submit([]byte(gridSpec(n))); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Lease(context.Background(), "w", MaxLeaseBatch, 0); err != nil {
		b.Fatal(err)
	}
	s.Close()
	for b.Loop() {
		s, err := New(st, Config{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "trials/s")
	_ = st.Close()
}
