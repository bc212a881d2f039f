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

// OrderParameter is the order parameter of one trial: how far its final bias
// fell below its seed's gradient-flow plateau, and whether that counts as
// having learned the threshold.
type OrderParameter struct {
	// Group is the canonical name of the trial's group (see GroupName).
	Group string
	// Plateau is the final bias of the trial's seed at the reference η
	// (NaN when the seed has no finite run to take it from).
	Plateau float64
	// Drop is Plateau − final_bias: ≈ 0 in the stable phase, > 0 when GD at the
	// edge of stability pushed the bias below its gradient-flow value.
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
	eps      float64
	plateau  float64
	drop     float64
	learned  bool
	diverged bool
}

// groupData is the set of trials sharing the values of the GroupBy axes.
type groupData struct {
	key  map[string]float64
	vals []float64 // key values in GroupBy order, for sorting
	name string
	cfg  engine.Config // resolved config of the group's first trial (theory line)
	obs  []obs
	// missing are the group's trials without a result, by (η, seed).
	missing []missing
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
	byName := map[string]*groupData{}
	var groups []*groupData
	// group resolves params and returns the group they belong to.
	group := func(what string, params map[string]float64) (*groupData, engine.Config, error) {
		cfg, err := engine.Resolve(opt.Model, params)
		if err != nil {
			return nil, cfg, fmt.Errorf("%s: %w", what, err)
		}
		p := cfg.Params()
		key := make(map[string]float64, len(opt.GroupBy))
		vals := make([]float64, len(opt.GroupBy))
		for j, a := range opt.GroupBy {
			v, ok := p[a]
			if !ok {
				return nil, cfg, fmt.Errorf("%s: group axis %q: %w for model %s", what, a, engine.ErrUnknownParam, opt.Model)
			}
			key[a], vals[j] = v, v
		}
		name := GroupName(opt.GroupBy, key)
		g, ok := byName[name]
		if !ok {
			g = &groupData{key: key, vals: vals, name: name, cfg: cfg}
			byName[name] = g
			groups = append(groups, g)
		}
		return g, cfg, nil
	}
	for i := range missingTrials {
		m := &missingTrials[i]
		g, cfg, err := group("missing trial "+m.ID, m.Params)
		if err != nil {
			return nil, err
		}
		g.missing = append(g.missing, missing{eta: cfg.Eta, seed: float64(cfg.Seed), t: m})
	}
	for i := range trials {
		t := &trials[i]
		g, cfg, err := group(fmt.Sprintf("trial %d", i), t.Params)
		if err != nil {
			return nil, err
		}
		if len(g.obs) == 0 {
			g.cfg = cfg // the theory line from a finished trial where there is one
		}
		eps := opt.BiasEps
		if eps <= 0 {
			eps = cfg.BiasEps
		}
		g.obs = append(g.obs, obs{
			idx: i, id: t.ID, eta: cfg.Eta, seed: float64(cfg.Seed), res: &t.Result, eps: eps,
			diverged: t.Result.Diverged || !isFinite(t.Result.FinalBias),
		})
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
			g.orderParameter(opt.ReferenceEta)
		}
	}
	return groups, nil
}

// orderParameter sets plateau, drop and learned for every observation: the
// plateau of a seed is its final bias at the reference η (the group's smallest
// η, or the grid η nearest to refEta in log η when refEta > 0). A seed without a
// finite run at the reference η falls back to its smallest finite η.
func (g *groupData) orderParameter(refEta float64) {
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
				plateau[o.seed] = o.res.FinalBias
			}
		}
	}
	for _, o := range g.obs { // fallback: the seed's smallest finite η
		if _, ok := plateau[o.seed]; !ok && !o.diverged {
			plateau[o.seed] = o.res.FinalBias
		}
	}
	for i := range g.obs {
		o := &g.obs[i]
		pl, ok := plateau[o.seed]
		if !ok {
			o.plateau, o.drop = math.NaN(), math.NaN()
			continue
		}
		o.plateau = pl
		o.drop = pl - o.res.FinalBias
		o.learned = !o.diverged && o.drop > o.eps
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
