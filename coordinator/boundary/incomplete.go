package boundary

import (
	"math"
	"sort"
)

// MissingTrial is a trial of a sweep that has no result the analysis can use:
// pending, leased, failed or cancelled (or DONE without a stored result). The
// analysis cannot see what it would have shown, so every group it belongs to
// is marked (Group.Missing, Group.Incomplete, Group.Unconverged).
type MissingTrial struct {
	// ID is the trial's id.
	ID string
	// Params are its input parameters, as for Trial.
	Params map[string]float64
	// State is its state in lower case: pending, leased, failed, cancelled
	// (done for a DONE trial whose result is not stored).
	State string
	// Attempt is the number of leases it has had.
	Attempt int
	// Error is its last error (failed trials).
	Error string
}

// Mark names one trial of a group that the group's estimates lack or
// discount: a trial without a result (Group.Missing) or one that diverged
// (Group.Diverged, State "diverged").
type Mark struct {
	Trial   string  `json:"trial"`
	Eta     float64 `json:"eta"`
	Seed    float64 `json:"seed"`
	State   string  `json:"state"`
	Attempt int     `json:"attempt,omitempty"`
	Error   string  `json:"error,omitempty"`
}

// StateDiverged is the State of a Mark in Group.Diverged.
const StateDiverged = "diverged"

// Names of the estimates Group.Unconverged lists (their JSON names in Record).
const (
	EstimateBracket = "bracket"
	EstimateCI      = "ci"
	EstimateOnsetCI = "onset_ci"
)

// missing is one missing trial inside a group.
type missing struct {
	eta, seed float64
	t         *MissingTrial
}

// marks sets the group's Missing, Diverged, Incomplete and Unconverged from
// its observations and its missing trials (res holds the estimates).
func (g *groupData) marks(res *Group) {
	res.Missing, res.Diverged, res.Unconverged = []Mark{}, []Mark{}, []string{}
	for _, m := range g.missing {
		res.Missing = append(res.Missing, Mark{Trial: m.t.ID, Eta: m.eta, Seed: m.seed, State: m.t.State,
			Attempt: m.t.Attempt, Error: m.t.Error})
	}
	for _, o := range g.obs {
		if o.res.Diverged { // not a run that merely lacks the metric (o.diverged)
			res.Diverged = append(res.Diverged, Mark{Trial: o.id, Eta: o.eta, Seed: o.seed, State: StateDiverged})
		}
	}
	if len(g.missing) == 0 {
		return
	}
	res.Incomplete = true
	if !g.bracketSettled(res.Crossing, res.Bracket) {
		res.Unconverged = append(res.Unconverged, EstimateBracket)
	}
	if g.missingIn(res.Fit == FitNone, res.CI) {
		res.Unconverged = append(res.Unconverged, EstimateCI)
	}
	if g.missingIn(res.OnsetForm == OnsetNone, res.OnsetCI) {
		res.Unconverged = append(res.Unconverged, EstimateOnsetCI)
	}
}

// missingIn reports whether a missing trial could move an interval estimate:
// one lies inside it, or there is no estimate (none) and a trial is missing.
func (g *groupData) missingIn(none bool, iv Interval) bool {
	for _, m := range g.missing {
		if none || (m.eta >= iv.Low && m.eta <= iv.High) {
			return true
		}
	}
	return false
}

// bracketSettled reports whether no outcome of the missing trials — learned
// or not, diverged or not — could change the bracket findBracket found: every
// η below the crossing (every η when it crosses above the grid) keeps a
// learned fraction below ½ even if all its missing seeds learned, and the
// crossing row keeps ½ even if none of them did. An η where only missing
// trials ran could go either way, so one below the crossing unsettles it.
func (g *groupData) bracketSettled(c Crossing, bracket Interval) bool {
	type count struct{ learned, valid, missing int }
	at := map[float64]*count{}
	get := func(eta float64) *count {
		if at[eta] == nil {
			at[eta] = &count{}
		}
		return at[eta]
	}
	for _, o := range g.obs {
		n := get(o.eta)
		if !o.diverged {
			n.valid++
			if o.learned {
				n.learned++
			}
		}
	}
	for _, m := range g.missing {
		get(m.eta).missing++
	}
	cross := math.Inf(1) // the η of the crossing row
	if c != CrossingAbove {
		cross = bracket.High
	}
	etas := make([]float64, 0, len(at))
	for eta := range at {
		etas = append(etas, eta)
	}
	sort.Float64s(etas)
	for _, eta := range etas {
		n := at[eta]
		if n.missing == 0 || eta > cross {
			continue
		}
		total := float64(n.valid + n.missing)
		if eta < cross && float64(n.learned+n.missing)/total >= 0.5 {
			return false // could cross here, before the crossing found
		}
		if eta == cross && (n.valid == 0 || float64(n.learned)/total < 0.5) {
			return false // the crossing row could fall below ½
		}
	}
	return true
}
