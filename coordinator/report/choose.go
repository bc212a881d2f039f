package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

// Sentinel errors of Write for options that name nothing in the sweep.
var (
	// ErrUnknownAxis is wrapped when Options.Axis is not a group axis.
	ErrUnknownAxis = errors.New("not a group axis of this sweep")
	// ErrNoTrajectory is wrapped when Options.Trajectory matches no trial.
	ErrNoTrajectory = errors.New("no trial matches")
)

// trajectoryTolerance is how far, relatively, a trajectory's η may be from
// the one asked for: enough for an η rounded to 2 digits.
const trajectoryTolerance = 0.05

// checkAxis refuses an Axis that is not one of the analysis' group axes.
func checkAxis(a boundary.Analysis, axis string) error {
	if axis == "" || slices.Contains(a.Options.GroupBy, axis) {
		return nil
	}
	if len(a.Options.GroupBy) == 0 {
		return fmt.Errorf("axis %q: %w (it has none: every trial is in one group)", axis, ErrUnknownAxis)
	}
	return fmt.Errorf("axis %q: %w (its group axes: %s)", axis, ErrUnknownAxis, strings.Join(a.Options.GroupBy, ", "))
}

// noTrajectory says why sel matches no trial: the first parameter given
// whose value no trial has (with the values there are), or η too far from
// every trial matching the rest.
func noTrajectory(a boundary.Analysis, sel map[string]float64) error {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	matched := make([]int, len(a.Trials))
	for i := range matched {
		matched[i] = i
	}
	for _, k := range append(slices.DeleteFunc(keys, func(k string) bool { return k == "eta" }), "eta") {
		want, ok := sel[k]
		if !ok {
			continue
		}
		values := map[float64]bool{}
		var next []int
		for _, i := range matched {
			v, has := a.Trials[i].Params[k]
			if !has {
				continue
			}
			values[v] = true
			if v == want || (k == "eta" && math.Abs(math.Log(v/want)) <= math.Log1p(trajectoryTolerance)) {
				next = append(next, i)
			}
		}
		if len(next) == 0 {
			return fmt.Errorf("%w %s=%s (%s values there: %s)", ErrNoTrajectory, k, num(want), k, valueList(values))
		}
		matched = next
	}
	return fmt.Errorf("%w %v", ErrNoTrajectory, sel)
}

// valueList renders a set of values sorted, at most 12 of them.
func valueList(set map[float64]bool) string {
	vs := make([]float64, 0, len(set))
	for v := range set {
		vs = append(vs, v)
	}
	sort.Float64s(vs)
	parts := make([]string, 0, min(len(vs), 13))
	for i, v := range vs {
		if i == 12 {
			parts = append(parts, "… "+strconv.Itoa(len(vs))+" in all")
			break
		}
		parts = append(parts, strconv.FormatFloat(v, 'g', 4, 64))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
