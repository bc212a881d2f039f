package engine

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Model names.
const (
	ModelSingle = "single" // single-neuron linear network
	ModelMean   = "mean"   // mean-output dynamics
	ModelSparse = "sparse" // the paper's Figure 1 network
	ModelReLU   = "relu"   // two-layer symmetric ReLU network
)

// ModelExec names the trials of an exec sweep: an outside program, which
// the engine does not run, with free-form numeric parameters. It is not in
// Models and Resolve refuses it.
const ModelExec = "exec"

// Models lists the model names in a stable order.
var Models = []string{ModelSingle, ModelMean, ModelSparse, ModelReLU}

// Sentinel errors returned (wrapped) by Resolve.
var (
	// ErrUnknownModel is returned for a model name not in Models.
	ErrUnknownModel = errors.New("unknown model")
	// ErrUnknownParam is returned for a parameter the model does not take.
	ErrUnknownParam = errors.New("unknown parameter")
	// ErrBadParam is returned for a parameter whose value is out of range.
	ErrBadParam = errors.New("bad parameter")
)

// paramSpec describes one parameter: its default per model and its constraints.
type paramSpec struct {
	integer bool    // must be a whole number
	min     float64 // inclusive lower bound
	minOpen bool    // lower bound is exclusive (value must be > min)
	max     float64 // inclusive upper bound (0 = none)
}

var specs = map[string]paramSpec{
	"eta":             {min: 0, minOpen: true},
	"width":           {integer: true, min: 1, max: 1 << 20},
	"seed":            {integer: true, min: 0, max: 1 << 53},
	"steps":           {integer: true, min: 1, max: 1e8},
	"horizon":         {min: 0, minOpen: true},
	"sharpness_every": {integer: true, min: 0, max: 1e8},
	"lanczos_iters":   {integer: true, min: 1, max: 1000},
	"init_scale":      {min: 0},
	"bias_eps":        {min: 0},
	"x0":              {min: 0, minOpen: true},
	"b0":              {min: -1e6},
	"d":               {integer: true, min: 1, max: 1 << 20},
	"n":               {integer: true, min: 1, max: 1e7},
	"n_test":          {integer: true, min: 0, max: 1e7},
	"lam":             {min: 0},
	"noise":           {min: 0},
	"w_scale":         {min: 0},
	"a_scale":         {min: 0},
}

// defaults holds, per model, every parameter the model takes and its default.
// A parameter absent from a model's map is refused for that model.
// sharpness_every = 0 means "automatic": about 256 evaluations over the run.
// horizon = 0 means "no horizon": steps is used as given.
var defaults = map[string]map[string]float64{
	ModelSingle: {
		"eta": 0, "seed": 0, "steps": 2000, "horizon": 0, "sharpness_every": 0,
		"lanczos_iters": 20, "init_scale": 0.01, "bias_eps": 1e-2, "x0": 2,
	},
	ModelMean: {
		"eta": 0, "width": 20, "seed": 0, "steps": 1000, "horizon": 0, "sharpness_every": 0,
		"lanczos_iters": 20, "init_scale": 0.01, "bias_eps": 1e-2, "b0": 0,
	},
	ModelSparse: {
		"eta": 0, "width": 200, "seed": 0, "steps": 0, "horizon": 10, "sharpness_every": 0,
		"lanczos_iters": 20, "init_scale": 1, "bias_eps": 1e-2, "b0": 0,
		"n": 300, "n_test": 2000, "lam": 3, "noise": 1,
	},
	ModelReLU: {
		"eta": 0, "width": 20, "seed": 0, "steps": 2000, "horizon": 0, "sharpness_every": 100,
		"lanczos_iters": 20, "bias_eps": 1e-2, "b0": 0,
		"d": 200, "n": 1000, "n_test": 2000, "lam": 10, "noise": 1, "w_scale": 1, "a_scale": 1,
	},
}

// Config is one fully resolved trial: every parameter of its model, defaults applied.
// A Config is a pure description; the same Config always gives the same Result.
type Config struct {
	Model          string
	Eta            float64
	Width          int // mean, relu: neurons m; sparse: dimension d; single: unused (1)
	Seed           uint64
	Steps          int // resolved: ceil(Horizon/Eta) when a horizon is in force
	Horizon        float64
	SharpnessEvery int // resolved: never 0
	LanczosIters   int
	InitScale      float64
	BiasEps        float64
	X0             float64
	B0             float64
	D              int
	N              int
	NTest          int
	Lam            float64
	Noise          float64
	WScale         float64
	AScale         float64

	params map[string]float64 // canonical parameters as resolved
}

// ParamNames returns the parameters model takes, sorted; nil for an unknown model.
func ParamNames(model string) []string {
	d, ok := defaults[model]
	if !ok {
		return nil
	}
	names := make([]string, 0, len(d))
	for k := range d {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// HasData reports whether model trains on a data set (it takes n), and so
// has train and test accuracies.
func HasData(model string) bool {
	_, ok := defaults[model]["n"]
	return ok
}

// Default returns the default of parameter name for model.
func Default(model, name string) (float64, bool) {
	v, ok := defaults[model][name]
	return v, ok
}

// Resolve validates params for model, applies defaults and returns the Config.
// eta is required. Giving both steps and horizon is an error; an explicit steps
// overrides a model's default horizon. Errors name the offending parameter.
func Resolve(model string, params map[string]float64) (Config, error) {
	def, ok := defaults[model]
	if !ok {
		return Config{}, fmt.Errorf("model %q: %w (want one of %s)", model, ErrUnknownModel, strings.Join(Models, ", "))
	}
	for _, name := range sortedKeys(params) {
		v := params[name]
		if _, ok := def[name]; !ok {
			return Config{}, fmt.Errorf("parameter %q: %w for model %s (it takes %s)", name, ErrUnknownParam, model, strings.Join(ParamNames(model), ", "))
		}
		if err := checkValue(name, v); err != nil {
			return Config{}, err
		}
	}
	if _, ok := params["eta"]; !ok {
		return Config{}, fmt.Errorf("parameter \"eta\": %w: required", ErrBadParam)
	}
	_, hasSteps := params["steps"]
	_, hasHorizon := params["horizon"]
	if hasSteps && hasHorizon {
		return Config{}, fmt.Errorf("parameters \"steps\" and \"horizon\": %w: give one, not both", ErrBadParam)
	}
	p := make(map[string]float64, len(def))
	for k, v := range def {
		p[k] = v
	}
	for k, v := range params {
		p[k] = v
	}
	if hasSteps {
		p["horizon"] = 0
	}
	if p["horizon"] > 0 {
		steps := math.Ceil(p["horizon"] / p["eta"])
		if steps > specs["steps"].max {
			return Config{}, fmt.Errorf("parameter \"horizon\": %w: horizon/eta = %g steps is more than %g", ErrBadParam, steps, specs["steps"].max)
		}
		p["steps"] = steps
	}
	c := Config{
		Model:          model,
		Eta:            p["eta"],
		Width:          int(p["width"]),
		Seed:           uint64(p["seed"]),
		Steps:          int(p["steps"]),
		Horizon:        p["horizon"],
		SharpnessEvery: int(p["sharpness_every"]),
		LanczosIters:   int(p["lanczos_iters"]),
		InitScale:      p["init_scale"],
		BiasEps:        p["bias_eps"],
		X0:             p["x0"],
		B0:             p["b0"],
		D:              int(p["d"]),
		N:              int(p["n"]),
		NTest:          int(p["n_test"]),
		Lam:            p["lam"],
		Noise:          p["noise"],
		WScale:         p["w_scale"],
		AScale:         p["a_scale"],
		params:         p,
	}
	if model == ModelSingle {
		c.Width = 1
	}
	if c.SharpnessEvery == 0 {
		c.SharpnessEvery = max(1, (c.Steps+255)/256)
	}
	return c, nil
}

func checkValue(name string, v float64) error {
	s := specs[name]
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("parameter %q: %w: %v is not a finite number", name, ErrBadParam, v)
	case s.integer && v != math.Trunc(v):
		return fmt.Errorf("parameter %q: %w: %v is not a whole number", name, ErrBadParam, v)
	case s.minOpen && v <= s.min:
		return fmt.Errorf("parameter %q: %w: %v must be > %v", name, ErrBadParam, v, s.min)
	case !s.minOpen && v < s.min:
		return fmt.Errorf("parameter %q: %w: %v must be >= %v", name, ErrBadParam, v, s.min)
	case s.max > 0 && v > s.max:
		return fmt.Errorf("parameter %q: %w: %v must be <= %v", name, ErrBadParam, v, s.max)
	}
	return nil
}

// Params returns the canonical parameters of c: every parameter of its model
// with defaults applied, as given to Resolve (horizon kept, steps resolved).
// The returned map is a copy.
func (c Config) Params() map[string]float64 {
	out := make(map[string]float64, len(c.params))
	for k, v := range c.params {
		out[k] = v
	}
	return out
}

// Key returns a canonical text form "model k=v k=v ..." (sorted keys, shortest
// round-trip float formatting): the identity of a trial, suitable for hashing.
func (c Config) Key() string {
	b := make([]byte, 0, 24*len(c.params)+len(c.Model))
	b = append(b, c.Model...)
	for _, k := range sortedKeys(c.params) {
		b = append(b, ' ')
		b = append(b, k...)
		b = append(b, '=')
		b = strconv.AppendFloat(b, c.params[k], 'g', -1, 64)
	}
	return string(b)
}

// Theory returns the model's theoretical critical step size, if it has one:
// single 8/x0², mean 16π/m (at b0 = 0: 8/(m σ(b0)²)), sparse 8π/d².
func (c Config) Theory() (float64, bool) {
	switch c.Model {
	case ModelSingle:
		return 8 / (c.X0 * c.X0), true
	case ModelMean:
		s := meanSigma(c.B0)
		return 8 / (float64(c.Width) * s * s), true
	case ModelSparse:
		d := float64(c.Width)
		return 8 * math.Pi / (d * d), true
	}
	return 0, false
}

// meanSigma is σ(b) = E[ReLU(z+b)] = bΦ(b) + φ(b), z ~ N(0,1).
func meanSigma(b float64) float64 {
	return b*0.5*math.Erfc(-b/math.Sqrt2) + math.Exp(-b*b/2)/math.Sqrt(2*math.Pi)
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
