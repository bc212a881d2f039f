package boundary

import "github.com/eosweep/eosweep/engine"

// Trial is one finished trial as the analysis sees it.
type Trial struct {
	// ID is the trial's id ("" where the caller has none, e.g. in tests).
	ID string
	// Params are the trial's input parameters as given to engine.Resolve
	// (the spec's fixed params plus the grid point), not the resolved ones.
	Params map[string]float64
	// Result is the engine's result. Trials without one are MissingTrials.
	Result engine.Result
}

// Options configure the analysis of one sweep.
type Options struct {
	Model string
	// GroupBy are the grid axes that define a group: every axis but "eta" and "seed".
	GroupBy []string
	// BiasEps is the drop below the seed's plateau that counts as learned:
	// the threshold of Metric's change (0: the model's bias_eps, or
	// DefaultBiasEps; taken as given when Metric has a Level).
	BiasEps float64
	// ReferenceEta, when > 0, pins the η whose final bias is each seed's plateau;
	// otherwise the group's smallest η is used.
	ReferenceEta float64
	// Metric is the order parameter (the zero value: final_bias, drop).
	Metric Metric
}

// Interval is a closed interval [Low, High].
type Interval struct {
	Low  float64
	High float64
}

// EtaRow aggregates the seeds of one group at one step size.
type EtaRow struct {
	Eta              float64 `json:"eta"`
	Seeds            int     `json:"seeds"`
	Learned          int     `json:"learned"`
	Fraction         float64 `json:"fraction"` // learned / (seeds − diverged)
	Diverged         int     `json:"diverged"`
	MeanBias         float64 `json:"mean_bias"`
	StdBias          float64 `json:"std_bias"`
	MeanDrop         float64 `json:"mean_drop"` // mean of plateau − final_bias (≥ 0 when learned)
	StdDrop          float64 `json:"std_drop"`
	MeanSharpness    float64 `json:"mean_sharpness"`
	StdSharpness     float64 `json:"std_sharpness"`
	MeanEOSRatio     float64 `json:"mean_eos_ratio"`
	StdEOSRatio      float64 `json:"std_eos_ratio"`
	MeanMaxEOSRatio  float64 `json:"mean_max_eos_ratio"` // of max_eos_ratio, the run's largest η·S/2
	StdMaxEOSRatio   float64 `json:"std_max_eos_ratio"`
	MeanTestAcc      float64 `json:"mean_test_acc"`
	StdTestAcc       float64 `json:"std_test_acc"`
	MeanInitialSharp float64 `json:"mean_initial_sharpness"`
}

// Crossing says where a group's learned fraction crosses ½ relative to its grid.
type Crossing string

// Crossing values.
const (
	CrossingInside Crossing = "inside" // the fraction crosses ½ between two grid points
	CrossingBelow  Crossing = "below"  // learned already at the smallest η: η* is below the grid
	CrossingAbove  Crossing = "above"  // never learned: η* is above the grid
)

// Group is the boundary of one group of trials. Its JSON form is Record
// (WriteJSON, boundary.json): Group itself carries no JSON names.
type Group struct {
	// Key holds the group's axis values by parameter name (GroupBy axes only).
	Key map[string]float64
	// Metric is the order parameter the boundary is of (Options.Metric).
	Metric Metric
	// Rows are the per-η aggregates in increasing η.
	Rows []EtaRow
	// Crossing tells whether Bracket is meaningful.
	Crossing Crossing
	// Bracket is the pair of adjacent grid η between which the fraction crosses ½.
	Bracket Interval
	// EtaStar and CI come from the maximum-likelihood logistic fit learned ~ log η.
	EtaStar float64
	CI      Interval
	// Fit says how EtaStar and CI were obtained (FitMLE, FitSeparated, FitNone).
	Fit string
	// Onset and OnsetCI come from the hinge fit of the bias drop against η.
	Onset   float64
	OnsetCI Interval
	// OnsetForm names the hinge form chosen for the onset fit (see HingeForms),
	// or "none" when the drop does not grow with η.
	OnsetForm string
	// Theory is the model's theory line (nil when it has none).
	Theory *float64
	// Stability is 2/S₀ with S₀ the median initial sharpness over the group's seeds.
	Stability float64
	// Trials counts the trials analysed in the group (diverged included).
	Trials int

	// Missing lists the group's trials without a result (failed, pending,
	// leased, cancelled), by η and seed: the estimates above do not see them.
	Missing []Mark
	// Diverged lists the group's trials that diverged, by η and seed: they
	// count in Trials and in their rows, never as learned, and in no fit.
	Diverged []Mark
	// Incomplete is set when Missing is not empty.
	Incomplete bool
	// Unconverged names the estimates a missing trial could still move
	// (EstimateBracket, EstimateCI, EstimateOnsetCI): the bracket when some
	// outcome of the missing trials would change it, an interval when a
	// missing trial lies inside it (or there is no estimate yet).
	Unconverged []string
}
