package spec

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/boundtest"
)

// bounded is boundtest.Call (see there), measured from a collected heap.
func bounded(t *testing.T, d time.Duration, maxBytes uint64, fn func()) {
	t.Helper()
	runtime.GC()
	boundtest.Call(t, d, maxBytes, fn)
}

// TestParseRefusesUnboundedInput is issue 9 item 2: every axis's length is
// computed before anything is allocated, a non-advancing range is refused
// (today `range: [1.0e17, 1e17+16]` appends 1e17 forever: 867 MB in 5 s), the
// grid's size is bounded before expansion and the spec text is capped, each
// refusal naming the size and the limit, in bounded time and memory.
func TestParseRefusesUnboundedInput(t *testing.T) {
	big := "model: single\ngrid: {eta: [1]}\n" + strings.Repeat("# padding\n", 250_000)
	cases := []struct {
		name, yaml string
		maxTrials  int
		want       string
	}{
		{"non-advancing range", "model: single\ngrid:\n  eta: [1]\n  seed: {range: [1.0e17, 100000000000000016]}\n", 0,
			"grid.seed: range: 1e+17 is beyond 2^53 = 9,007,199,254,740,992"},
		{"non-advancing range, negative", "model: mean\ngrid:\n  eta: [1]\n  b0: {range: [-1.0e17, -99999999999999984]}\n", 0,
			"grid.b0: range: -1e+17 is beyond 2^53"},
		{"ten million trials", "model: single\ngrid:\n  eta: {logspace: [0.01, 1, 1000]}\n  seed: {range: [0, 10000]}\n", 0,
			"grid: has 10,000,000 trials; the limit is 100,000 (raise it with --max-trials)"},
		{"product overflows int64", "model: relu\ngrid:\n  eta: {linspace: [1, 2, 100000]}\n  seed: {range: [0, 100000]}\n" +
			"  width: {range: [1, 100001]}\n  d: {range: [1, 100001]}\n", math.MaxInt,
			"grid: has 100,000,000,000,000,000,000 trials; the limit is 9,223,372,036,854,775,807"},
		{"long range", "model: single\ngrid:\n  eta: [1]\n  seed: {range: [0, 9.0e15]}\n", 0,
			"grid.seed: range: 9,000,000,000,000,000 values; the limit is 100,000 trials (raise it with --max-trials)"},
		{"long range, no trial limit", "model: single\ngrid:\n  eta: [1]\n  seed: {range: [0, 9.0e15]}\n", math.MaxInt,
			"grid.seed: range: 9,000,000,000,000,000 values; an axis holds at most 1,000,000"},
		{"long linspace", "model: single\ngrid: {eta: {linspace: [1, 2, 1.0e300]}}\n", 0,
			"grid.eta: linspace: n = 1e+300: 1e+300 values; the limit is 100,000 trials"},
		{"long logspace", "model: single\ngrid: {eta: {logspace: [1, 2, 2.0e6]}}\n", math.MaxInt,
			"grid.eta: logspace: n = 2e+06: 2,000,000 values; an axis holds at most 1,000,000"},
		{"long list", "model: single\ngrid: {eta: [" + strings.Repeat("1, ", 20_000) + "1]}\n", 10_000,
			"grid.eta: 20,001 values; the limit is 10,000 trials"},
		{"generator args", "model: single\ngrid: {eta: {linspace: [" + strings.Repeat("1, ", 10_000) + "1]}}\n", 0,
			"grid.eta: linspace: want a list of at most 3 numbers"},
		{"spec text", big, 0, "spec: 2.5 MB (2,500,031 bytes); the limit is 256 KiB (262,144 bytes)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			bounded(t, 2*time.Second, 8<<20, func() { _, err = Parse([]byte(c.yaml), c.maxTrials) })
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\ndoes not say %q", err, c.want)
			}
		})
	}
}

// hugeGrid is a 10,000,000-point grid: 1000 step sizes × 10,000 seeds.
const hugeGrid = "model: single\ngrid:\n  eta: {logspace: [0.01, 1, 1000]}\n  seed: {range: [0, 10000]}\nparams: {steps: 5}\n"

// TestHugeGridStreams: a 10-million-point grid with a raised limit parses
// without expanding (bounded time and memory), and Each expands it in
// constant memory and stops soon after its context is cancelled.
func TestHugeGridStreams(t *testing.T) {
	var s *Spec
	var err error
	// Parse resolves each axis value once (11,000 points, ~2 KB of garbage
	// each) and the pairs' corners; materialising the grid took 12.8 GB.
	bounded(t, 2*time.Second, 32<<20, func() { s, err = Parse([]byte(hugeGrid), 20_000_000) })
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Size(); got != 10_000_000 {
		t.Fatalf("Size() = %d, want 10,000,000", got)
	}

	// Constant memory: the live heap after 100,000 points is what it was
	// after 1,000.
	const stopAt = 100_000
	var heap0 uint64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := 0
	err = s.Each(ctx, func(i int, tr Trial) error {
		if i != seen {
			t.Fatalf("ordinal %d, want %d", i, seen)
		}
		seen++
		switch i {
		case 1000:
			heap0 = liveHeap()
		case stopAt:
			if grown := int64(liveHeap()) - int64(heap0); grown > 1<<20 {
				t.Errorf("live heap grew by %d bytes over %d points", grown, stopAt-1000)
			}
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Each after cancel = %v, want context.Canceled", err)
	}
	if seen > stopAt+1+eachCheckEvery {
		t.Errorf("Each went on for %d points after its context was cancelled", seen-stopAt-1)
	}
	last, err := s.At(s.Size() - 1)
	if err != nil {
		t.Fatal(err)
	}
	if last.Params["eta"] != 1 || last.Params["seed"] != 9999 {
		t.Errorf("At(last) = %v", last.Params)
	}
}

func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// expandReference is today's main's expansion: every point of the product
// of the axes as given, dropping the ones whose configuration was seen.
func expandReference(t *testing.T, s *Spec) []Trial {
	t.Helper()
	var out []Trial
	seen := map[string]bool{}
	idx := make([]int, len(s.Grid))
	for {
		p := map[string]float64{}
		for k, v := range s.Params {
			p[k] = v
		}
		for i, a := range s.Grid {
			p[a.Name] = a.Values[idx[i]]
		}
		tr, err := NewTrial(s.Model, p)
		if err != nil {
			t.Fatal(err)
		}
		if !seen[tr.ID] {
			seen[tr.ID] = true
			out = append(out, tr)
		}
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(s.Grid[i].Values) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out
		}
	}
}

// TestEachDropsDuplicates: Each gives exactly the trials, in the order, that
// materialising the product and dropping repeated configurations gives (so a
// sweep stored by an older eosweep keeps its trials' Seq), At(i) is Each's
// i-th, and Size counts them.
func TestEachDropsDuplicates(t *testing.T) {
	t.Parallel()
	for _, y := range []string{
		"model: single\ngrid: {eta: [2, 1, 2, 1, 3], seed: [0, 0, 1]}\nparams: {steps: 3}\n",
		"model: mean\ngrid: {eta: {linspace: [1, 1, 4]}, width: [3, 2, 3], seed: {range: [0, 3]}}\nparams: {steps: 3}\n",
		"model: mean\ngrid: {eta: [1], b0: [0, -0.0, 0]}\nparams: {steps: 3}\n",
		"model: sparse\ngrid: {eta: [0.5, 0.25, 0.5], horizon: [1, 1.0, 2]}\nparams: {n: 5, n_test: 5, width: 3}\n",
		"model: relu\ngrid: {eta: {logspace: [0.1, 0.1, 3]}, steps: [1, 2, 1]}\nparams: {width: 2, d: 2, n: 3, n_test: 0}\n",
	} {
		s, err := Parse([]byte(y), 0)
		if err != nil {
			t.Fatalf("%q: %v", y, err)
		}
		want := expandReference(t, s)
		got, err := s.Trials()
		if err != nil {
			t.Fatal(err)
		}
		if s.Size() != len(want) || len(got) != len(want) {
			t.Fatalf("%q: Size() %d, Trials %d, reference %d", y, s.Size(), len(got), len(want))
		}
		for i := range want {
			at, err := s.At(i)
			if err != nil {
				t.Fatal(err)
			}
			if got[i].ID != want[i].ID || at.ID != want[i].ID {
				t.Fatalf("%q: trial %d: Each %v, At %v, reference %v", y, i, got[i].Params, at.Params, want[i].Params)
			}
		}
	}
}

// TestConfigKeyHoldsEveryParam is the premise of Each's duplicate dropping:
// a resolved configuration's key holds every parameter as it was given, so
// two grid points that differ in a value never resolve to one configuration.
func TestConfigKeyHoldsEveryParam(t *testing.T) {
	t.Parallel()
	for _, model := range engine.Models {
		for _, name := range engine.ParamNames(model) {
			def, _ := engine.Default(model, name)
			for _, v := range []float64{def, def + 1, def + 2, 0.5, 7} {
				p := map[string]float64{"eta": 0.5, name: v}
				cfg, err := engine.Resolve(model, p)
				if err != nil {
					continue // not a valid value of the parameter
				}
				if want := fmt.Sprintf(" %s=%s", name, strconv.FormatFloat(v, 'g', -1, 64)); !strings.Contains(cfg.Key()+" ", want+" ") {
					t.Errorf("%s: %s=%v: key %q does not hold %q", model, name, v, cfg.Key(), want)
				}
			}
		}
	}
}

// TestLargeGridValidation: a grid above FullCheckPoints is not resolved point
// by point at Parse, yet a bad value on any axis, and the engine's one
// constraint between parameters (horizon/eta steps), are still refused.
func TestLargeGridValidation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, yaml, want string }{
		{"bad value on the last axis", "model: mean\ngrid:\n  eta: {linspace: [0.1, 1, 200]}\n  seed: {range: [0, 100]}\n" +
			"  width: [3, 4, 0]\n", `"width"`},
		// eta's smallest value is its last and horizon's largest its last:
		// every axis value is fine at the other axes' first values; only the
		// corner (eta 1e-7, horizon 20: 2e8 steps) is not.
		{"horizon/eta at a corner", "model: sparse\ngrid:\n  eta: {logspace: [1, 1.0e-7, 200]}\n  seed: {range: [0, 100]}\n" +
			"  horizon: [1, 20]\n", `"horizon"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(c.yaml), 1_000_000)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse = %v, want an error naming %s", err, c.want)
			}
		})
	}
	ok := "model: sparse\ngrid:\n  eta: {logspace: [1, 1.0e-7, 200]}\n  seed: {range: [0, 100]}\n  horizon: [1, 10]\n"
	if s, err := Parse([]byte(ok), 1_000_000); err != nil || s.Size() != 40_000 {
		t.Fatalf("Parse(horizon [1, 10]) = %v", err)
	}
}

// TestParseStoredKeepsOldSweeps: the limits are submit-time policy. A spec
// stored before them (a 2.5 MB text, a grid larger than the default limit)
// is re-read by ParseStored, so the store that holds it keeps opening.
func TestParseStoredKeepsOldSweeps(t *testing.T) {
	t.Parallel()
	for _, y := range []string{
		"model: single\ngrid: {eta: [1]}\n" + strings.Repeat("# padding\n", 250_000),
		hugeGrid,
	} {
		if _, err := Parse([]byte(y), 0); err == nil {
			t.Fatalf("Parse accepted %d bytes", len(y))
		}
		s, err := ParseStored([]byte(y))
		if err != nil {
			t.Fatalf("ParseStored: %v", err)
		}
		if s.Size() < 1 {
			t.Fatalf("Size() = %d", s.Size())
		}
	}
}

// BenchmarkEach measures streamed expansion: ns and bytes per grid point of
// the 10-million-point grid (each point resolved, its id hashed).
func BenchmarkEach(b *testing.B) {
	s, err := Parse([]byte(hugeGrid), 20_000_000)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	stop := errors.New("enough")
	b.ResetTimer()
	err = s.Each(context.Background(), func(i int, _ Trial) error {
		if i+1 >= b.N {
			return stop
		}
		return nil
	})
	if err != nil && err != stop {
		b.Fatal(err)
	}
}

// TestEachInCoversEach: the grid expanded in ranges (as a submit does, one
// range per core) is Each's expansion, point for point.
func TestEachInCoversEach(t *testing.T) {
	t.Parallel()
	s, err := Parse([]byte("model: single\ngrid:\n  eta: [0.5, 1, 1.5]\n  seed: {range: [0, 7]}\n  x0: [1, 2]\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := s.Each(context.Background(), func(_ int, tr Trial) error { want = append(want, tr.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, step := range []int{1, 4, 5, len(want), len(want) + 3} {
		var got []string
		for from := 0; from < len(want); from += step {
			err := s.EachIn(context.Background(), from, from+step, func(i int, tr Trial) error {
				if i != len(got) {
					t.Fatalf("step %d: ordinal %d, want %d", step, i, len(got))
				}
				got = append(got, tr.ID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("step %d: %v, want %v", step, got, want)
		}
	}
}

// TestParseStoredResolvesNoPoints: a stored spec is not resolved point by
// point again (its trials were, when they were written; a restart of a
// million-trial sweep must not resolve thousands of points per sweep), so a
// spec whose points an engine no longer accepts still opens.
func TestParseStoredResolvesNoPoints(t *testing.T) {
	t.Parallel()
	const y = "model: single\ngrid:\n  eta: [1, 2]\n  steps: [0, 5]\n"
	if _, err := Parse([]byte(y), 0); err == nil {
		t.Fatal("Parse accepted steps: 0")
	}
	s, err := ParseStored([]byte(y))
	if err != nil {
		t.Fatalf("ParseStored: %v", err)
	}
	if s.Size() != 4 {
		t.Fatalf("size %d", s.Size())
	}
}
