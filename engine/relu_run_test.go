package engine

import (
	"context"
	"math"
	"reflect"
	"sync"
	"testing"
)

// naiveReLU evaluates the relu network and its loss and accuracy from the
// definitions, sample by sample, on row-major X (n×d) and θ = (W, a, b).
func naiveReLU(x, y, theta []float64, m, d int) (loss, acc float64) {
	n := len(y)
	b := theta[m*d+m]
	right := 0
	for k := range n {
		var f float64
		for i := range m {
			var z float64
			for j := range d {
				z += theta[i*d+j] * x[k*d+j]
			}
			f += theta[m*d+i] * (math.Max(z+b, 0) - math.Max(b-z, 0))
		}
		s := y[k] * f
		loss += math.Max(-s, 0) + math.Log1p(math.Exp(-math.Abs(s)))
		if s > 0 {
			right++
		}
	}
	return loss / float64(n), float64(right) / float64(n)
}

// TestReLULossReference holds the batched loss and accuracies against the
// sample-by-sample definition.
func TestReLULossReference(t *testing.T) {
	t.Parallel()
	for _, p := range reluPoints {
		md, theta := smallReLU(t, 9, 5, 41, p.b, p.seed)
		wantLoss, wantTrain := naiveReLU(md.x, md.y, theta, md.m, md.d)
		_, wantTest := naiveReLU(md.xTest, md.yTest, theta, md.m, md.d)
		if got := md.loss(theta); math.Abs(got-wantLoss) > 1e-13*wantLoss {
			t.Errorf("%s: loss %.17g, want %.17g", p.name, got, wantLoss)
		}
		if train, test := md.accuracy(theta); train != wantTrain || test != wantTest {
			t.Errorf("%s: accuracy (%v, %v), want (%v, %v)", p.name, train, test, wantTrain, wantTest)
		}
	}
}

func TestReLUDead(t *testing.T) {
	t.Parallel()
	md, theta := smallReLU(t, 6, 4, 20, -100, 1)
	if !md.dead(theta) {
		t.Error("b = −100: not dead")
	}
	if l := md.loss(theta); math.Abs(l-math.Ln2) > 1e-14 {
		t.Errorf("dead network: loss %v, want ln 2", l)
	}
	for _, b := range []float64{-0.5, 0, 0.5} {
		theta[len(theta)-1] = b
		if md.dead(theta) {
			t.Errorf("b = %v: dead", b)
		}
	}
}

// TestReLUAllocatesNothing: after construction, a step and a sharpness
// evaluation allocate nothing (defaults: d = 200, n = 1000, m = 20).
func TestReLUAllocatesNothing(t *testing.T) {
	cfg := mustResolve(t, ModelReLU, map[string]float64{"eta": 1})
	md, err := newReLU(cfg)
	if err != nil {
		t.Fatal(err)
	}
	theta, g := make([]float64, md.dim()), make([]float64, md.dim())
	md.init(theta)
	for name, f := range map[string]func(){
		"grad":      func() { md.grad(g, theta) },
		"loss":      func() { md.loss(theta) },
		"sharpness": func() { md.sharpness(theta) },
	} {
		if n := testing.AllocsPerRun(2, f); n != 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}

// smallReLUParams is a relu trial small enough for unit tests.
var smallReLUParams = map[string]float64{"d": 10, "n": 40, "n_test": 30, "width": 4, "steps": 300, "sharpness_every": 50}

func smallReLUTrial(extra map[string]float64) map[string]float64 {
	p := map[string]float64{}
	for k, v := range smallReLUParams {
		p[k] = v
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func TestReLURun(t *testing.T) {
	t.Parallel()
	for _, eta := range []float64{0.1, 1, 3} {
		p := smallReLUTrial(map[string]float64{"eta": eta})
		cfg := mustResolve(t, ModelReLU, p)
		r := runT(t, ModelReLU, p)
		checkResult(t, cfg.Key(), cfg, r)
		if !(r.InitialSharpness > 0) || valueOr(r.TrainAcc, 0) < 0.5 {
			t.Errorf("η = %v: initial sharpness %v, train accuracy %v", eta, r.InitialSharpness, valueOr(r.TrainAcc, 0))
		}
	}
	p := smallReLUTrial(map[string]float64{"eta": 0.5, "b0": -100})
	if r := runT(t, ModelReLU, p); !r.Dead || math.Abs(r.FinalLoss-math.Ln2) > 1e-14 || r.FinalBias != -100 {
		t.Errorf("b0 = −100: dead %v, loss %v, final bias %v; want true, ln 2, −100", r.Dead, r.FinalLoss, r.FinalBias)
	}
}

// TestReLUDeterministic runs one relu trial twice concurrently: identical
// results but for the wall time.
func TestReLUDeterministic(t *testing.T) {
	t.Parallel()
	cfg := mustResolve(t, ModelReLU, smallReLUTrial(map[string]float64{"eta": 2, "seed": 4}))
	var res [2]Result
	var wg sync.WaitGroup
	for i := range res {
		wg.Go(func() {
			r, err := Run(context.Background(), cfg)
			if err != nil {
				t.Error(err)
			}
			r.WallMS = 0
			res[i] = r
		})
	}
	wg.Wait()
	if !reflect.DeepEqual(res[0], res[1]) {
		t.Errorf("two runs differ:\n%+v\n%+v", res[0], res[1])
	}
}

// TestReLUDump checks the dump's names and shapes, that θ₀ is the init drawn
// for (seed, width, d), and replays the final parameters: their loss and
// accuracy from the definition must match the result.
func TestReLUDump(t *testing.T) {
	t.Parallel()
	p := smallReLUTrial(map[string]float64{"eta": 0.7, "seed": 2})
	cfg := mustResolve(t, ModelReLU, p)
	res, d, err := RunDump(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, dd, n, nt := cfg.Width, cfg.D, cfg.N, cfg.NTest
	shapes := map[string][]int{
		"W0": {m, dd}, "a0": {m}, "b0": {}, "W": {m, dd}, "a": {m}, "b": {},
		"X": {n, dd}, "y": {n}, "X_test": {nt, dd}, "y_test": {nt},
	}
	for name, want := range shapes {
		if got := d[name].Shape; !reflect.DeepEqual(got, want) || len(d[name].Data) != max(1, prod(want)) {
			t.Errorf("%s: shape %v with %d values, want %v", name, got, len(d[name].Data), want)
		}
	}
	md, err := newReLU(cfg)
	if err != nil {
		t.Fatal(err)
	}
	theta0 := append(append(append([]float64(nil), d["W0"].Data...), d["a0"].Data...), d["b0"].Data...)
	if !reflect.DeepEqual(theta0, md.theta0) {
		t.Error("dumped θ₀ is not the model's θ₀")
	}
	theta := append(append(append([]float64(nil), d["W"].Data...), d["a"].Data...), d["b"].Data...)
	loss, train := naiveReLU(d["X"].Data, d["y"].Data, theta, m, dd)
	_, test := naiveReLU(d["X_test"].Data, d["y_test"].Data, theta, m, dd)
	if math.Abs(loss-res.FinalLoss) > 1e-12*loss || train != valueOr(res.TrainAcc, -1) || test != valueOr(res.TestAcc, -1) || theta[len(theta)-1] != res.FinalBias {
		t.Errorf("replay: loss %v train %v test %v b %v; result %v %v %v %v",
			loss, train, test, theta[len(theta)-1], res.FinalLoss, valueOr(res.TrainAcc, -1), valueOr(res.TestAcc, -1), res.FinalBias)
	}
}

func prod(s []int) int {
	p := 1
	for _, v := range s {
		p *= v
	}
	return p
}
