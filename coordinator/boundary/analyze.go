package boundary

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// Analysis is the analysis of one set of finished trials: each trial's order
// parameter and each group's boundary. Analyze computes it once; refinement,
// GetBoundary and the report all read the same value.
type Analysis struct {
	// Options are the options the trials were analysed with.
	Options Options
	// Trials are the trials analysed, in the order given to Analyze.
	Trials []Trial
	// Missing are the sweep's trials without a result, as given to
	// AnalyzeIncomplete (nil from Analyze).
	Missing []MissingTrial
	// OrderParameters holds the order parameter of every trial, by index
	// into Trials.
	OrderParameters []OrderParameter
	// Groups are the boundaries of the groups, sorted by their axis values.
	Groups []Group
}

// Analyze groups the trials by opt.GroupBy, computes every trial's order
// parameter (plateau, drop, learned) and locates each group's boundary:
// the bracket where the learned fraction crosses ½, the logistic fit of
// learned ~ log η with its 95% profile-likelihood interval, and the hinge
// onset of the bias drop with its interval, beside the theory and stability
// lines. Groups come out sorted by their axis values.
//
// Diverged trials are counted in Trials and in each row's Seeds and Diverged,
// never as learned, and are left out of every fit and of the per-η means.
// An all-diverged row has Fraction 0 and is skipped by the bracket.
func Analyze(trials []Trial, opt Options) (Analysis, error) {
	return AnalyzeIncomplete(trials, nil, opt)
}

// AnalyzeIncomplete is Analyze with the sweep's trials that have no result:
// each is placed in its group (a group where none finished is analysed with
// no trials), and every group is marked with what it lacks — which η and
// seeds are missing and why, which diverged, and which estimates a missing
// trial could still move (Group.Missing, Diverged, Incomplete, Unconverged).
func AnalyzeIncomplete(trials []Trial, missing []MissingTrial, opt Options) (Analysis, error) {
	groups, err := classify(trials, missing, opt)
	if err != nil {
		return Analysis{}, err
	}
	a := Analysis{Options: opt, Trials: trials, Missing: missing, OrderParameters: make([]OrderParameter, len(trials)),
		Groups: make([]Group, 0, len(groups))}
	for _, g := range groups {
		for _, o := range g.obs {
			a.OrderParameters[o.idx] = OrderParameter{Group: g.name, Plateau: o.plateau, Drop: o.drop, Learned: o.learned}
		}
		a.Groups = append(a.Groups, g.analyze())
	}
	return a, nil
}

func (g *groupData) analyze() Group {
	res := Group{Key: g.key, Metric: g.metric, Trials: len(g.obs), Rows: g.rows()}
	res.Crossing, res.Bracket = findBracket(res.Rows)

	var x, drop []float64
	var y []bool
	for _, o := range g.obs {
		if o.diverged || !isFinite(o.drop) {
			continue
		}
		x = append(x, math.Log(o.eta))
		y = append(y, o.learned)
		drop = append(drop, o.drop)
	}
	lf := fitLogistic(x, y)
	res.EtaStar, res.CI, res.Fit = lf.etaStar, lf.ci, lf.kind
	res.OnsetForm = OnsetNone
	if g.metric.Level == nil { // a level crossing has no hinge shape
		hf := fitOnset(x, drop)
		res.Onset, res.OnsetCI, res.OnsetForm = hf.onset, hf.ci, hf.form
	}
	res.Theory = g.theory
	res.Stability = g.stability()
	g.marks(&res)
	return res
}

// rows aggregates the observations (sorted by η) into one EtaRow per η.
func (g *groupData) rows() []EtaRow {
	var rows []EtaRow
	for i := 0; i < len(g.obs); {
		j := i
		for j < len(g.obs) && g.obs[j].eta == g.obs[i].eta {
			j++
		}
		rows = append(rows, aggregate(g.obs[i:j]))
		i = j
	}
	return rows
}

// aggregate summarises the observations of one η. Means and standard
// deviations (sample, n−1) are over the runs that did not diverge, except the
// initial sharpness, which every run has.
func aggregate(obs []obs) EtaRow {
	r := EtaRow{Eta: obs[0].eta, Seeds: len(obs)}
	var bias, drop, sharp, eos, maxEOS, acc, s0 []float64
	for _, o := range obs {
		s0 = append(s0, o.res.InitialSharpness)
		if o.diverged {
			r.Diverged++
			continue
		}
		if o.learned {
			r.Learned++
		}
		bias = append(bias, o.res.FinalBias)
		drop = append(drop, o.drop)
		sharp = append(sharp, o.res.FinalSharpness)
		eos = append(eos, o.res.EOSRatio)
		maxEOS = append(maxEOS, o.res.MaxEOSRatio)
		if o.res.TestAcc != nil { // absent without a test set
			acc = append(acc, *o.res.TestAcc)
		}
	}
	if n := r.Seeds - r.Diverged; n > 0 {
		r.Fraction = float64(r.Learned) / float64(n)
	}
	r.MeanBias, r.StdBias = meanStd(bias)
	r.MeanDrop, r.StdDrop = meanStd(drop)
	r.MeanSharpness, r.StdSharpness = meanStd(sharp)
	r.MeanEOSRatio, r.StdEOSRatio = meanStd(eos)
	r.MeanMaxEOSRatio, r.StdMaxEOSRatio = meanStd(maxEOS)
	r.MeanTestAcc, r.StdTestAcc = meanStd(acc)
	r.MeanInitialSharp, _ = meanStd(s0)
	return r
}

// meanStd returns the mean and sample standard deviation, 0 for what is
// undefined (no values; one value's spread), and skips non-finite values.
func meanStd(v []float64) (mean, std float64) {
	f := v[:0:0]
	for _, x := range v {
		if isFinite(x) {
			f = append(f, x)
		}
	}
	switch len(f) {
	case 0:
		return 0, 0
	case 1:
		return f[0], 0
	}
	return stat.MeanStdDev(f, nil)
}

// findBracket locates the first η where the learned fraction reaches ½ (rows
// where every seed diverged are skipped): Inside with the pair of adjacent
// rows around it, Below when it is already reached at the smallest η, Above
// when it is never reached. For Below and Above the bracket is the degenerate
// interval at the grid's end on that side.
func findBracket(rows []EtaRow) (Crossing, Interval) {
	var valid []EtaRow
	for _, r := range rows {
		if r.Seeds > r.Diverged {
			valid = append(valid, r)
		}
	}
	if len(valid) == 0 {
		return CrossingAbove, Interval{}
	}
	for i, r := range valid {
		if r.Fraction >= 0.5 {
			if i == 0 {
				return CrossingBelow, Interval{r.Eta, r.Eta}
			}
			return CrossingInside, Interval{valid[i-1].Eta, r.Eta}
		}
	}
	last := valid[len(valid)-1].Eta
	return CrossingAbove, Interval{last, last}
}

// stability returns 2/S₀ with S₀ the median over the group's seeds of the
// initial sharpness (which does not depend on η); 0 when S₀ is not positive.
func (g *groupData) stability() float64 {
	perSeed := map[float64]float64{}
	for _, o := range g.obs {
		if _, ok := perSeed[o.seed]; !ok && isFinite(o.res.InitialSharpness) {
			perSeed[o.seed] = o.res.InitialSharpness
		}
	}
	s := make([]float64, 0, len(perSeed))
	for _, v := range perSeed {
		s = append(s, v)
	}
	if len(s) == 0 {
		return 0
	}
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if med <= 0 {
		return 0
	}
	return 2 / med
}
