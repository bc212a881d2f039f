package engine

import (
	"context"
	"testing"
	"time"
)

// cpuTimer reports a benchmark's CPU time per operation (metric cpu-ns/op),
// and the GFLOP/s it implies when flops > 0.
type cpuTimer struct{ start time.Duration }

func startCPU(b *testing.B) cpuTimer {
	b.Helper()
	t, _ := processCPU()
	return cpuTimer{t}
}

func (c cpuTimer) report(b *testing.B, flops float64) {
	b.Helper()
	end, ok := processCPU()
	if !ok || b.N == 0 {
		return
	}
	perOp := (end - c.start).Seconds() / float64(b.N)
	b.ReportMetric(perOp*1e9, "cpu-ns/op")
	if flops > 0 {
		b.ReportMetric(flops/perOp/1e9, "GFLOP/s(cpu)")
	}
}

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
	cpu := startCPU(b)
	for b.Loop() {
		md.grad(g, theta)
		axpyVec(-1e-9, g, theta) // a tiny step keeps θ (nearly) fixed
	}
	cpu.report(b, reluFlops(cfg))
}

// BenchmarkReluHVP is one exact Hessian-vector product at θ₀ (defaults).
func BenchmarkReluHVP(b *testing.B) {
	cfg, md := defaultReLU(b)
	theta, v, dst := make([]float64, md.dim()), make([]float64, md.dim()), make([]float64, md.dim())
	md.init(theta)
	copy(v, theta)
	md.forward(theta, true)
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		md.hvp(dst, theta, v)
	}
	cpu.report(b, reluFlops(cfg))
}

// BenchmarkReluSharpness is one Lanczos sharpness (20 HVPs and a forward pass).
func BenchmarkReluSharpness(b *testing.B) {
	_, md := defaultReLU(b)
	theta := make([]float64, md.dim())
	md.init(theta)
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		md.sharpness(theta)
	}
	cpu.report(b, 0)
}

// BenchmarkReluTrial is a whole default relu trial (2000 steps, sharpness
// every 100 steps with 20 Lanczos iterations), as `eosweep trial` runs it.
func BenchmarkReluTrial(b *testing.B) {
	cfg, err := Resolve(ModelReLU, map[string]float64{"eta": 1})
	if err != nil {
		b.Fatal(err)
	}
	cpu := startCPU(b)
	for b.Loop() {
		if _, err := Run(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b, 0)
}
