package spec

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/boundtest"
)

// Fuzz bounds: no spec of at most fuzzMaxInput bytes takes longer than
// fuzzMaxTime to parse or allocates more than fuzzMaxAlloc doing it (with
// the fuzzer's trial limit of 1000; Parse resolves at most that many
// points, ~1.5 KB each, and YAML nodes cost ~100 bytes per input byte).
const (
	fuzzMaxInput = 64 << 10
	fuzzMaxTime  = time.Second
	fuzzMaxAlloc = 32 << 20
)

// FuzzParseSpec checks that Parse never panics, returns within a second and
// allocates at most 32 MB for any input of at most 64 KiB, that every error
// wraps ErrInvalid, and that an accepted spec expands into at most the trial
// limit of resolvable trials with a stable identity, which ParseStored
// reads back the same. Seeds: testdata/fuzz/FuzzParseSpec and below.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(figure1))
	f.Add([]byte("model: single\ngrid: {eta: [1, 2]}\n"))
	f.Add([]byte("model: mean\ngrid: {eta: {logspace: [0.1, 10, 4]}, width: {range: [1, 4]}}\nparams: {steps: 5}\n"))
	f.Add([]byte("model: relu\ngrid: {eta: [.nan]}\n"))
	f.Add([]byte(execSpec))
	f.Add([]byte("model: sparse\ngrid: {eta: [1]}\nboundary: {metrics: [final_bias, {metric: max_eos_ratio, level: 1}]}\n"))
	f.Add([]byte("model: sparse\ngrid: {eta: {linspace: [1, 2, 1e300]}}\n"))
	f.Add([]byte("model: single\ngrid:\n  eta: [1]\n  seed: {range: [1.0e17, 100000000000000016]}\n"))
	f.Add([]byte(hugeGrid))
	f.Add([]byte("model: single\ngrid: {eta: [2, 1, 2], seed: [0, 0]}\nboundary: {refine: {rounds: 2, tolerance: 0.1}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			t.Skip()
		}
		var s *Spec
		var err error
		boundtest.Call(t, fuzzMaxTime, fuzzMaxAlloc, func() { s, err = Parse(data, 1000) })
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		n := 0
		err = s.Each(context.Background(), func(i int, tr Trial) error {
			if i != n || tr.ID == "" {
				t.Fatalf("point %d: ordinal %d, id %q", n, i, tr.ID)
			}
			n++
			return nil
		})
		if err != nil || n != s.Size() || n == 0 || n > 1000 {
			t.Fatalf("accepted spec expands to %d of Size() %d trials, err %v", n, s.Size(), err)
		}
		again, err := Parse(data, 1000)
		if err != nil || again.ID() != s.ID() {
			t.Fatalf("reparse: id %v vs %v, err %v", again.ID(), s.ID(), err)
		}
		stored, err := ParseStored(data)
		if err != nil || stored.ID() != s.ID() || stored.Size() != s.Size() {
			t.Fatalf("ParseStored: %v", err)
		}
	})
}
