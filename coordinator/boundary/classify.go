package boundary

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/eosweep/eosweep/engine"
)

// ErrNoModel is returned when Options.Model is empty.
var ErrNoModel = errors.New("no model given")

// ErrNoMetric is returned when no trial's result holds Options.Metric.
var ErrNoMetric = errors.New("no trial reports this metric")

// OrderParameter is the order parameter of one trial: how far its metric
// (Options.Metric; by default its final bias) moved from its seed's
// gradient-flow plateau in the metric's sense, and whether that counts as
// having crossed the boundary (learned the threshold).
type OrderParameter struct {
	// Group is the canonical name of the trial's group (see GroupName).
	Group string
	// Plateau is the metric of the trial's seed at the reference η, or the
	// metric's Level (NaN when the seed has no finite run to take it from).
	Plateau float64
	// Drop is Plateau − metric (metric − Plateau for a rise): for final_bias
	// ≈ 0 in the stable phase, > 0 when GD at the edge of stability pushed the
	// bias below its gradient-flow value.
	Drop float64
	// Learned is Drop > bias_eps for a trial that did not diverge.
	Learned bool
}

// obs is one trial inside a group, with its order parameter.
type obs struct {
	idx      int // index into the trials given to Analyze
	id       string
	eta      float64
	seed     float64
	res      *engine.Result
	value    float64 // the metric's value (NaN when the result lacks it)
	eps      float64
	plateau  float64
	drop     float64 // the change of value from plateau in the metric's sense
	learned  bool
	diverged bool // diverged, or no finite value of the metric
}

// groupData is the set of trials sharing the values of the GroupBy axes.
type groupData struct {
	key    map[string]float64
	vals   []float64 // key values in GroupBy order, for sorting
	name   string
	theory *float64 // the model's theory line at the group's first finished trial
	metric Metric
	obs    []obs
	// missing are the group's trials without a result, by (η, seed).
	missing []missing
}

// DefaultBiasEps is the threshold of an analysis whose Options.BiasEps is 0
// and whose model has no bias_eps of its own (model exec).
const DefaultBiasEps = 1e-2

// point is what the analysis takes of one trial's parameters.
type point struct {
	eta, seed float64
	params    map[string]float64 // where group axis values are read
	eps       float64            // the model's default threshold
	theory    *float64
}

// resolvePoint reads η, the seed and the group axes of a trial: through
// engine.Resolve for the engine's models (defaults applied), from the input
// parameters as given for engine.ModelExec (an exec program's free-form
// parameters), where eta is required and seed defaults to 0.
func resolvePoint(model string, params map[string]float64) (point, error) {
	if model == engine.ModelExec {
		eta, ok := params["eta"]
		if !ok || !(eta > 0) || !isFinite(eta) {
			return point{}, fmt.Errorf("parameter \"eta\": %v is missing or not a finite number > 0 (the boundary is located along eta)", eta)
		}
		return point{eta: eta, seed: params["seed"], params: params, eps: DefaultBiasEps}, nil
	}
	cfg, err := engine.Resolve(model, params)
	if err != nil {
		return point{}, err
	}
	pt := point{eta: cfg.Eta, seed: float64(cfg.Seed), params: cfg.Params(), eps: cfg.BiasEps}
	if th, ok := cfg.Theory(); ok {
		pt.theory = &th
	}
	return pt, nil
}

// GroupName renders a group key as "axis=value axis=value" in the order of
// axes, or "all" for the single group of an empty GroupBy.
func GroupName(axes []string, key map[string]float64) string {
	if len(axes) == 0 {
		return "all"
	}
	parts := make([]string, len(axes))
	for i, a := range axes {
		parts[i] = a + "=" + strconv.FormatFloat(key[a], 'g', -1, 64)
	}
	return strings.Join(parts, " ")
}

// classify groups the trials and computes each trial's plateau, drop and
// learned flag. Groups come out sorted by their key values (GroupBy order),
// observations by (η, seed).
func classify(trials []Trial, missingTrials []MissingTrial, opt Options) ([]*groupData, error) {
	if opt.Model == "" {
		return nil, ErrNoModel
	}
	if err := opt.Metric.check(); err != nil {
		return nil, err
	}
	byName := map[string]*groupData{}
	var groups []*groupData
	found := len(trials) == 0
	// group resolves params and returns the group they belong to.
	group := func(what string, params map[string]float64) (*groupData, point, error) {
		pt, err := resolvePoint(opt.Model, params)
		if err != nil {
			return nil, pt, fmt.Errorf("%s: %w", what, err)
		}
		p := pt.params
		key := make(map[string]float64, len(opt.GroupBy))
		vals := make([]float64, len(opt.GroupBy))
		for j, a := range opt.GroupBy {
			v, ok := p[a]
			if !ok {
				return nil, pt, fmt.Errorf("%s: group axis %q: %w for model %s", what, a, engine.ErrUnknownParam, opt.Model)
			}
			key[a], vals[j] = v, v
		}
		name := GroupName(opt.GroupBy, key)
		g, ok := byName[name]
		if !ok {
			g = &groupData{key: key, vals: vals, name: name, theory: pt.theory, metric: opt.Metric}
			byName[name] = g
			groups = append(groups, g)
		}
		return g, pt, nil
	}
	for i := range missingTrials {
		m := &missingTrials[i]
		g, pt, err := group("missing trial "+m.ID, m.Params)
		if err != nil {
			return nil, err
		}
		g.missing = append(g.missing, missing{eta: pt.eta, seed: pt.seed, t: m})
	}
	for i := range trials {
		t := &trials[i]
		g, pt, err := group(fmt.Sprintf("trial %d", i), t.Params)
		if err != nil {
			return nil, err
		}
		if len(g.obs) == 0 {
			g.theory = pt.theory // the theory line from a finished trial where there is one
		}
		eps := opt.BiasEps
		if eps <= 0 && opt.Metric.Level == nil {
			eps = pt.eps
		}
		v, ok := opt.Metric.Value(&t.Result)
		if !ok {
			v = math.NaN()
		}
		found = found || ok
		g.obs = append(g.obs, obs{
			idx: i, id: t.ID, eta: pt.eta, seed: pt.seed, res: &t.Result, value: v, eps: eps,
			diverged: t.Result.Diverged || !isFinite(v),
		})
	}
	if !found {
		return nil, fmt.Errorf("metric %q: %w", opt.Metric.MetricName(), ErrNoMetric)
	}
	sort.Slice(groups, func(i, j int) bool { return lessFloats(groups[i].vals, groups[j].vals) })
	for _, g := range groups {
		sort.SliceStable(g.obs, func(i, j int) bool {
			a, b := g.obs[i], g.obs[j]
			if a.eta != b.eta {
				return a.eta < b.eta
			}
			return a.seed < b.seed
		})
		sort.SliceStable(g.missing, func(i, j int) bool {
			a, b := g.missing[i], g.missing[j]
			if a.eta != b.eta {
				return a.eta < b.eta
			}
			return a.seed < b.seed
		})
		if len(g.obs) > 0 {
			g.orderParameter(opt.ReferenceEta, opt.Metric.Level)
		}
	}
	return groups, nil
}

// orderParameter sets plateau, drop and learned for every observation: the
// plateau of a seed is its metric's value at the reference η (the group's
// smallest η, or the grid η nearest to refEta in log η when refEta > 0), or
// level for every seed when level is set. A seed without a finite run at the
// reference η falls back to its smallest finite η. The drop is the change of
// the metric from the plateau in the metric's sense.
func (g *groupData) orderParameter(refEta float64, level *float64) {
	if level != nil {
		for i := range g.obs {
			g.obs[i].plateau = *level
		}
		g.setDrops()
		return
	}
	ref := g.obs[0].eta
	if refEta > 0 {
		best := math.Inf(1)
		for _, o := range g.obs {
			if d := math.Abs(math.Log(o.eta / refEta)); d < best {
				best, ref = d, o.eta
			}
		}
	}
	plateau := map[float64]float64{}
	for _, o := range g.obs { // first pass: the reference η itself
		if o.eta == ref && !o.diverged {
			if _, ok := plateau[o.seed]; !ok {
				plateau[o.seed] = o.value
			}
		}
	}
	for _, o := range g.obs { // fallback: the seed's smallest finite η
		if _, ok := plateau[o.seed]; !ok && !o.diverged {
			plateau[o.seed] = o.value
		}
	}
	for i := range g.obs {
		o := &g.obs[i]
		pl, ok := plateau[o.seed]
		if !ok {
			pl = math.NaN()
		}
		o.plateau = pl
	}
	g.setDrops()
}

// setDrops sets drop and learned from each observation's plateau. Against
// a Level, a seed counts as past it from the first η where it passed it on
// (the observations are in increasing η): the boundary is where the metric
// first reaches the level, even if it falls back later (max_eos_ratio drops
// below 1 again for some seeds far above η*).
func (g *groupData) setDrops() {
	reached := map[float64]bool{} // seeds past the level at a smaller η
	for i := range g.obs {
		o := &g.obs[i]
		if math.IsNaN(o.plateau) {
			o.drop = math.NaN()
			continue
		}
		o.drop = g.metric.change(o.value, o.plateau)
		o.learned = !o.diverged && o.drop > o.eps
		if g.metric.Level != nil && !o.diverged {
			o.learned = o.learned || reached[o.seed]
			reached[o.seed] = o.learned
		}
	}
}

func lessFloats(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
