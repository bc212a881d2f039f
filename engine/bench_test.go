package engine

import "testing"

// BenchmarkSparseStep measures one GD step (gradient + update) of the sparse
// model at its defaults (d = 200, n = 300), in the stable phase where b moves
// little per step.
func BenchmarkSparseStep(b *testing.B) {
	cfg, err := Resolve(ModelSparse, map[string]float64{"eta": 4e-4})
	if err != nil {
		b.Fatal(err)
	}
	m := newSparse(cfg)
	theta := make([]float64, m.dim())
	grad := make([]float64, m.dim())
	m.init(theta)
	step := func() {
		m.grad(grad, theta)
		for i := range theta {
			theta[i] -= cfg.Eta * grad[i]
		}
	}
	for range 1000 { // warm up: past the first fast phase, positions settled
		step()
	}
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
}
