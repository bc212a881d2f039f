package spec

import (
	"errors"
	"testing"
)

// FuzzParseSpec checks that Parse never panics, that every error wraps
// ErrInvalid, and that an accepted spec expands into resolvable trials with a
// stable identity.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(figure1))
	f.Add([]byte("model: single\ngrid: {eta: [1, 2]}\n"))
	f.Add([]byte("model: mean\ngrid: {eta: {logspace: [0.1, 10, 4]}, width: {range: [1, 4]}}\nparams: {steps: 5}\n"))
	f.Add([]byte("model: relu\ngrid: {eta: [.nan]}\n"))
	f.Add([]byte(execSpec))
	f.Add([]byte("model: sparse\ngrid: {eta: [1]}\nboundary: {metrics: [final_bias, {metric: max_eos_ratio, level: 1}]}\n"))
	f.Add([]byte("model: sparse\ngrid: {eta: {linspace: [1, 2, 1e300]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, 1000)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		trials, err := s.Trials()
		if err != nil || len(trials) == 0 || len(trials) > 1000 {
			t.Fatalf("accepted spec expands to %d trials, err %v", len(trials), err)
		}
		again, err := Parse(data, 1000)
		if err != nil || again.ID() != s.ID() {
			t.Fatalf("reparse: id %v vs %v, err %v", again.ID(), s.ID(), err)
		}
	})
}
