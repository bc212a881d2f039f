package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

// Data is what the figures are drawn from: one sweep's trials, their order
// parameters and the analysed groups. Build it with NewData; the figure
// builders (PhaseFigure, OverviewFigure, GroupFigure, Paper1Figure) only
// read it, so one Data serves any number of figures.
type Data struct {
	Model  string
	Trials []boundary.Trial
	Order  []boundary.OrderParameter // per trial, in the order of Trials
	Groups []boundary.Group
	// GroupBy are the group axes (boundary.Options.GroupBy).
	GroupBy []string
	// Axis labels the phase diagram's rows (see Options.Axis).
	Axis string

	members [][]int // per group: indices into Trials, by η then seed
	// plotted is the trial of the trajectory figure with its trajectory,
	// when Write read it apart from Trials (whose results may be summaries).
	plotted *boundary.Trial
}

// NewData ties an analysis (from boundary.Analyze) to its groups' trials;
// it computes no order parameter of its own.
func NewData(a boundary.Analysis, opt Options) (*Data, error) {
	if len(a.OrderParameters) != len(a.Trials) {
		return nil, fmt.Errorf("report: %d order parameters for %d trials (give the value boundary.Analyze returns)",
			len(a.OrderParameters), len(a.Trials))
	}
	d := &Data{Model: a.Options.Model, Trials: a.Trials, Order: a.OrderParameters, Groups: a.Groups, GroupBy: a.Options.GroupBy}
	d.Axis = phaseAxis(a.Options.GroupBy, opt.Axis)
	index := map[string]int{}
	for gi, g := range a.Groups {
		index[boundary.GroupName(a.Options.GroupBy, g.Key)] = gi
	}
	d.members = make([][]int, len(a.Groups))
	for _, i := range trialOrder(d.Trials, d.Order) {
		if gi, ok := index[d.Order[i].Group]; ok {
			d.members[gi] = append(d.members[gi], i)
		}
	}
	return d, nil
}

// phaseAxis returns the group axis that labels the groups: the given one,
// else "width" when it is a group axis, else the first group axis.
func phaseAxis(groupBy []string, axis string) string {
	if axis != "" {
		return axis
	}
	for _, a := range groupBy {
		if a == "width" {
			return a
		}
	}
	if len(groupBy) > 0 {
		return groupBy[0]
	}
	return ""
}

// groupTrials returns the trials of group gi that did not diverge, by η.
func (d *Data) groupTrials(gi int) []boundary.Trial {
	var out []boundary.Trial
	for _, i := range d.members[gi] {
		if !d.Trials[i].Result.Diverged {
			out = append(out, d.Trials[i])
		}
	}
	return out
}

// paramSymbol is how the paper writes a parameter of a model.
func paramSymbol(model, name string) string {
	switch name {
	case "eta":
		return "$η$"
	case "width":
		switch model {
		case engine.ModelSparse:
			return "$d$"
		case engine.ModelMean, engine.ModelReLU:
			return "$m$"
		}
	case "x0":
		return "$x_0$"
	case "d", "n", "m":
		return "$" + name + "$"
	case "lam":
		return "$λ$"
	case "seed":
		return "seed"
	}
	return name
}

// groupLabel names group gi in the paper's notation: "$d$ = 200", or every
// axis of its key when the label axis alone does not tell the groups apart.
func (d *Data) groupLabel(gi int) string {
	g := d.Groups[gi]
	unique := d.Axis != ""
	seen := map[float64]bool{}
	for _, o := range d.Groups {
		v, ok := o.Key[d.Axis]
		if !ok || seen[v] {
			unique = false
		}
		seen[v] = true
	}
	axes := d.GroupBy
	if unique {
		axes = []string{d.Axis}
	}
	if len(axes) == 0 {
		// one group: name it by its width when every trial has the same
		if w, ok := d.common("width"); ok {
			return paramSymbol(d.Model, "width") + " = " + strconv.FormatFloat(w, 'g', -1, 64)
		}
		return "all trials"
	}
	s := ""
	for i, a := range axes {
		if i > 0 {
			s += ", "
		}
		s += paramSymbol(d.Model, a) + " = " + strconv.FormatFloat(g.Key[a], 'g', -1, 64)
	}
	return s
}

// common returns the value of a parameter every trial shares.
func (d *Data) common(name string) (float64, bool) {
	if len(d.Trials) == 0 {
		return 0, false
	}
	v, ok := d.Trials[0].Params[name]
	for _, t := range d.Trials[1:] {
		if !ok || t.Params[name] != v {
			return 0, false
		}
	}
	return v, ok
}

// rowLabel is the tick label of group gi on the phase diagram's axis.
func (d *Data) rowLabel(gi int) string {
	l := d.groupLabel(gi)
	if d.Axis != "" {
		if v, ok := d.Groups[gi].Key[d.Axis]; ok && l == paramSymbol(d.Model, d.Axis)+" = "+strconv.FormatFloat(v, 'g', -1, 64) {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return l
}

// theorySymbol is the model's theory line as the paper writes it.
func theorySymbol(model string) string {
	switch model {
	case engine.ModelSparse:
		return "$8π/d^2$"
	case engine.ModelMean:
		return "$16π/m$"
	case engine.ModelSingle:
		return "$8/x_0^2$"
	}
	return "theory"
}

// quantity is one panel of the curves against η.
type quantity struct {
	label string
	value func(boundary.Trial) float64 // NaN: not available for this trial
	ref   float64                      // a horizontal reference line (NaN: none)
	// refLabel is the legend entry of the reference line.
	refLabel string
	// cap, when > 0, clips values (and error bars) at it, so that a few huge
	// values do not flatten the range of interest.
	cap float64
}

// clip returns v clipped at q.cap (unchanged without a cap).
func (q quantity) clip(v float64) float64 {
	if q.cap > 0 && v > q.cap {
		return q.cap
	}
	return v
}

// valueOr returns *v, or fallback when v is absent (a model without data).
func valueOr(v *float64, fallback float64) float64 {
	if v == nil {
		return fallback
	}
	return *v
}

// eosCap is where the max η·S/2 panel is clipped: the edge of stability is
// at 1 and the largest values after θ₀ measured for examples/figure1.yaml
// are below 3.
const eosCap = 3

var (
	biasQ = quantity{label: "final bias $b_T$", ref: math.NaN(),
		value: func(t boundary.Trial) float64 { return t.Result.FinalBias }}
	accQ = quantity{label: "test accuracy (%)", ref: math.NaN(),
		value: func(t boundary.Trial) float64 { return 100 * valueOr(t.Result.TestAcc, math.NaN()) }}
	// eosQ is the largest η·S/2 GD reaches after θ₀: ≈ 1 at the edge of
	// stability. The maximum with θ₀ (max_eos_ratio) is not plotted: for an
	// unstable start it is η·S₀/2 itself, which GD leaves in its first step.
	eosQ = quantity{label: "max$_{t ≥ 1}$ $η·S(θ_t)/2$", value: maxEOSAfterInit,
		ref: 1, refLabel: "edge of stability, $η·S/2$ = 1", cap: eosCap}
)

// maxEOSAfterInit is the result's max_eos_ratio_after_init or, for a result
// stored before that field existed (0), the largest η·S/2 over its
// trajectory's sharpness samples after step 0 (a subset of the measurements
// when the trajectory is thinned); NaN when there is none.
func maxEOSAfterInit(t boundary.Trial) float64 {
	if v := t.Result.MaxEOSRatioAfterInit; v > 0 {
		return v
	}
	eta := t.Params["eta"]
	best := math.NaN()
	for _, p := range t.Result.Trajectory {
		if p.Step > 0 && p.Sharpness > 0 {
			if v := eta * p.Sharpness / 2; !(v <= best) {
				best = v
			}
		}
	}
	return best
}

// quantities are the panels for the model: test accuracy only when the
// model has data.
func quantities(model string) []quantity {
	if model == engine.ModelSparse || model == engine.ModelReLU {
		return []quantity{biasQ, accQ, eosQ}
	}
	return []quantity{biasQ, eosQ}
}

// etaMean is a quantity's mean and sample standard deviation over the seeds
// of one η, and the seeds' range.
type etaMean struct {
	eta, mean, sd float64
	lo, hi        float64 // smallest and largest value
	n             int
}

// bar is the error bar: mean ± sd, cut to the seeds' range (a spread seed
// does not draw the bar past values no seed has, e.g. a negative η·S/2).
func (m etaMean) bar() (lo, hi float64) {
	return math.Max(m.mean-m.sd, m.lo), math.Min(m.mean+m.sd, m.hi)
}

// means returns q's per-η mean over trials (sorted by η), skipping values
// that are not finite; sd is 0 for one value.
func means(trials []boundary.Trial, q quantity) []etaMean {
	byEta := map[float64][]float64{}
	for _, t := range trials {
		if v := q.value(t); !math.IsNaN(v) && !math.IsInf(v, 0) {
			byEta[t.Params["eta"]] = append(byEta[t.Params["eta"]], v)
		}
	}
	out := make([]etaMean, 0, len(byEta))
	for eta, vs := range byEta {
		m := etaMean{eta: eta, mean: vs[0], n: len(vs), lo: slices.Min(vs), hi: slices.Max(vs)}
		if len(vs) > 1 {
			m.mean, m.sd = stat.MeanStdDev(vs, nil)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].eta < out[j].eta })
	return out
}
