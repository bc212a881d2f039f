package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// lossBound is the |loss| beyond which a run counts as diverged.
const lossBound = 1e6

// ctxCheckEvery is how many GD steps run between checks for cancellation.
const ctxCheckEvery = 256

// ErrNoModel is returned when a Config names a model with no registered constructor.
var ErrNoModel = errors.New("model not registered")

var (
	registryMu sync.RWMutex
	registry   = map[string]func(Config) (model, error){}
)

// registerModel makes a model constructor available to Run. Each model
// registers itself from an init function in its own file.
func registerModel(name string, newFn func(Config) (model, error)) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("engine: model " + name + " registered twice")
	}
	registry[name] = newFn
}

// newModel builds the model cfg names.
func newModel(cfg Config) (model, error) {
	registryMu.RLock()
	newFn, ok := registry[cfg.Model]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("model %q: %w", cfg.Model, ErrNoModel)
	}
	m, err := newFn(cfg)
	if err != nil {
		return nil, fmt.Errorf("build model %s: %w", cfg.Model, err)
	}
	return m, nil
}

// Run performs the trial cfg describes: full-batch gradient descent for
// cfg.Steps steps, with the sharpness measured at θ₀, every cfg.SharpnessEvery
// steps and at the end. It returns ctx.Err() if ctx is cancelled first.
func Run(ctx context.Context, cfg Config) (Result, error) {
	res, _, err := run(ctx, cfg, false)
	return res, err
}

// RunDump is Run that also returns the trial's data, configuration and initial
// and final parameters as named arrays, for replay elsewhere (e.g. NumPy).
func RunDump(ctx context.Context, cfg Config) (Result, Dump, error) {
	return run(ctx, cfg, true)
}

func run(ctx context.Context, cfg Config, withDump bool) (Result, Dump, error) {
	start := time.Now()
	if cfg.Steps < 1 || !(cfg.Eta > 0) || cfg.SharpnessEvery < 1 {
		return Result{}, nil, fmt.Errorf("config %q: %w: not resolved (use engine.Resolve)", cfg.Key(), ErrBadParam)
	}
	m, err := newModel(cfg)
	if err != nil {
		return Result{}, nil, err
	}
	g := newGD(cfg, m)
	if err := g.loop(ctx); err != nil {
		return Result{}, nil, err
	}
	res := g.result()
	res.WallMS = float64(time.Since(start).Microseconds()) / 1000
	if !withDump {
		return res, nil, nil
	}
	d := Dump{}
	for k, v := range cfg.Params() {
		d[k] = Array{Shape: []int{}, Data: []float64{v}}
	}
	m.dump(d, g.theta0, g.theta)
	return res, d, nil
}

// gd is the state of one gradient-descent run.
type gd struct {
	cfg                       Config
	m                         model
	eta                       float64
	theta0, theta, next, grad []float64

	step     int     // iterate index of theta
	loss     float64 // F(theta), valid after loop
	minBias  float64
	sharp    float64 // last finite sharpness measured
	sharp0   float64
	maxEOS   float64 // largest η·sharp/2 over the measurements so far
	maxEOS1  float64 // largest η·S/2 over the finite measurements at steps ≥ 1 (0: none yet)
	diverged bool
	traj     trajectory
}

func newGD(cfg Config, m model) *gd {
	n := m.dim()
	g := &gd{cfg: cfg, m: m, eta: cfg.Eta,
		theta0: make([]float64, n), theta: make([]float64, n),
		next: make([]float64, n), grad: make([]float64, n),
	}
	m.init(g.theta0)
	copy(g.theta, g.theta0)
	g.traj = newTrajectory(cfg.Steps, cfg.SharpnessEvery)
	return g
}

// loop runs GD until cfg.Steps steps are done or the run diverges.
func (g *gd) loop(ctx context.Context) error {
	done := ctx.Done()
	g.minBias = g.m.bias(g.theta)
	for g.step = 0; ; g.step++ {
		if g.step%ctxCheckEvery == 0 && done != nil {
			select {
			case <-done:
				return fmt.Errorf("trial %s stopped at step %d: %w", g.cfg.Model, g.step, ctx.Err())
			default:
			}
		}
		last := g.step == g.cfg.Steps
		measured := last || g.step%g.cfg.SharpnessEvery == 0
		sharp := 0.0
		if measured {
			sharp = g.measureSharpness()
		}
		var l float64
		if last {
			l = g.m.loss(g.theta)
		} else {
			l = g.m.grad(g.grad, g.theta)
		}
		g.diverged = !finite(l) || math.Abs(l) > lossBound
		bias := g.m.bias(g.theta)
		g.minBias = min(g.minBias, bias)
		g.loss = l
		if !last && !g.diverged && g.update() {
			g.traj.maybeAdd(Point{Step: g.step, Loss: l, Bias: bias, Sharpness: sharp})
			continue
		}
		// The run ends at theta: the last step, or the last finite iterate.
		g.diverged = g.diverged || !last
		if !measured {
			sharp = g.measureSharpness()
		}
		g.traj.add(Point{Step: g.step, Loss: finiteOr(l, lossBound), Bias: bias, Sharpness: sharp})
		return nil
	}
}

// update sets theta ← theta − η·grad unless the gradient or the new iterate
// is not finite, in which case theta is kept and update reports false.
func (g *gd) update() bool {
	var bad float64 // stays 0 unless some value is ±Inf or NaN (then x·0 is NaN)
	next, theta, grad, eta := g.next, g.theta, g.grad, g.eta
	_ = next[len(theta)-1]
	_ = grad[len(theta)-1]
	for i, t := range theta {
		v := t - eta*grad[i]
		next[i] = v
		bad += v * 0
	}
	if bad != 0 { // NaN != 0 too
		return false
	}
	g.theta, g.next = next, theta
	return true
}

// measureSharpness measures λ_max at theta, remembers it if finite (the first
// measurement is the initial sharpness), keeps the running maximum of η·S/2
// over the remembered values and returns the remembered value.
func (g *gd) measureSharpness() float64 {
	s := g.m.sharpness(g.theta)
	if finite(s) {
		g.sharp = s
	}
	eos := finiteOr(g.eta*g.sharp/2, g.maxEOS)
	if g.step == 0 {
		g.sharp0 = g.sharp
		g.maxEOS = eos
	}
	g.maxEOS = max(g.maxEOS, eos)
	if g.step > 0 && finite(s) {
		g.maxEOS1 = max(g.maxEOS1, g.eta*s/2)
	}
	return g.sharp
}

func (g *gd) result() Result {
	bias := g.m.bias(g.theta)
	r := Result{
		FinalBias:            bias,
		MinBias:              g.minBias,
		BiasNegative:         !g.diverged && bias < -g.cfg.BiasEps,
		InitialSharpness:     g.sharp0,
		FinalSharpness:       g.sharp,
		EOSRatio:             g.eta * g.sharp / 2,
		MaxEOSRatio:          g.maxEOS,
		MaxEOSRatioAfterInit: g.maxEOS1,
		FinalLoss:            finiteOr(g.loss, lossBound),
		StepsRun:             g.step,
		Diverged:             g.diverged,
		Dead:                 g.m.dead(g.theta),
		Trajectory:           g.traj.points,
	}
	if HasData(g.cfg.Model) {
		train, test := g.m.accuracy(g.theta)
		r.TrainAcc = &train
		if g.cfg.NTest > 0 {
			r.TestAcc = &test
		}
	}
	return r
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// finiteOr returns v if it is finite and fallback otherwise.
func finiteOr(v, fallback float64) float64 {
	if finite(v) {
		return v
	}
	return fallback
}
