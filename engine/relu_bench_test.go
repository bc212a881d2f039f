package engine

import (
	"context"
	"testing"
)

// reluFlops is the multiply-add count of one relu gradient step or HVP at
// cfg: two products of 2·m·n·d flops each (the elementwise work is O(mn)).
func reluFlops(cfg Config) float64 {
	return 4 * float64(cfg.Width) * float64(cfg.N) * float64(cfg.D)
}

func defaultReLU(b *testing.B) (Config, *relu) {
	b.Helper()
	cfg, err := Resolve(ModelReLU, map[string]float64{"eta": 1})
	if err != nil {
		b.Fatal(err)
	}
	md, err := newReLU(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return cfg, md
}

// BenchmarkReluStep is one GD step of the relu model at its defaults
// (d = 200, n = 1000, m = 20): forward, backprop and the update.
func BenchmarkReluStep(b *testing.B) {
	cfg, md := defaultReLU(b)
	theta, g := make([]float64, md.dim()), make([]float64, md.dim())
	md.init(theta)
	b.ReportAllocs()
	for b.Loop() {
		md.grad(g, theta)
		axpyVec(-1e-9, g, theta) // a tiny step keeps θ (nearly) fixed
	}
	b.ReportMetric(reluFlops(cfg)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkReluHVP is one exact Hessian-vector product at θ₀ (defaults).
func BenchmarkReluHVP(b *testing.B) {
	cfg, md := defaultReLU(b)
	theta, v, dst := make([]float64, md.dim()), make([]float64, md.dim()), make([]float64, md.dim())
	md.init(theta)
	copy(v, theta)
	md.forward(theta, true)
	b.ReportAllocs()
	for b.Loop() {
		md.hvp(dst, theta, v)
	}
	b.ReportMetric(reluFlops(cfg)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkReluSharpness is one Lanczos sharpness (20 HVPs and a forward pass).
func BenchmarkReluSharpness(b *testing.B) {
	_, md := defaultReLU(b)
	theta := make([]float64, md.dim())
	md.init(theta)
	b.ReportAllocs()
	for b.Loop() {
		md.sharpness(theta)
	}
}

// BenchmarkReluTrial is a whole default relu trial (2000 steps, sharpness
// every 100 steps with 20 Lanczos iterations), as `eosweep trial` runs it.
func BenchmarkReluTrial(b *testing.B) {
	cfg, err := Resolve(ModelReLU, map[string]float64{"eta": 1})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Run(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
}
