package scheduler

import (
	"errors"
	"strings"
	"testing"

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
	const n = 2*submitBatchTrials + 10
	s := newTestScheduler(t, nil, nil, Config{MaxTrials: 3 * submitBatchTrials})
	before := s.st.Stats().Commits
	sw := submit(t, s, gridSpec(n))
	if got, want := s.st.Stats().Commits-before, int64(3+1); got < want {
		t.Fatalf("submit of %d trials took %d transactions, want >= %d (batches of %d, then the sweep)", n, got, want, submitBatchTrials)
	}
	stored, err := s.st.Sweep(sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.MaxTrials != 3*submitBatchTrials {
		t.Fatalf("stored MaxTrials %d, want %d", stored.MaxTrials, 3*submitBatchTrials)
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

// BenchmarkSubmit: a streamed submit of a 20,000-trial grid (ns/op per sweep;
// trials/s reported).
func BenchmarkSubmit(b *testing.B) {
	const n = 20_000
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		st := openStore(b, tempDB(b))
		s, err := New(st, Config{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, _, err := s.Submit([]byte(gridSpec(n))); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		_ = st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "trials/s")
}
