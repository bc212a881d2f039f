package spec

import (
	"fmt"
	"math"

	"go.yaml.in/yaml/v3"
)

// maxExactInt is 2^53: above it float64 does not hold every whole number, so
// a range beyond it would repeat values (v + 1 == v) instead of advancing.
const maxExactInt = 1 << 53

// axisValues expands one grid axis: a list of numbers, or a mapping with
// exactly one of linspace: [lo, hi, n], logspace: [lo, hi, n] (values, not
// exponents) or range: [lo, hi] / [lo, hi, step] (integers, hi exclusive).
// The axis's length is known before anything is allocated, and an axis
// longer than lim.n values is refused with lim's message.
func axisValues(node *yaml.Node, lim axisLimit) ([]float64, error) {
	var vals []float64
	switch node.Kind {
	case yaml.SequenceNode:
		if err := lim.check(float64(len(node.Content))); err != nil {
			return nil, err
		}
		if err := node.Decode(&vals); err != nil {
			return nil, fmt.Errorf("want a list of numbers: %w", err)
		}
	case yaml.MappingNode:
		if len(node.Content) != 2 {
			return nil, fmt.Errorf("want exactly one of linspace, logspace, range")
		}
		kind := node.Content[0].Value
		switch kind {
		case "linspace", "logspace", "range":
		default:
			return nil, fmt.Errorf("unknown generator %q (want linspace, logspace or range)", kind)
		}
		if args := node.Content[1]; args.Kind != yaml.SequenceNode || len(args.Content) > 3 {
			return nil, fmt.Errorf("%s: want a list of at most 3 numbers", kind)
		}
		var args []float64
		if err := node.Content[1].Decode(&args); err != nil {
			return nil, fmt.Errorf("%s: want a list of numbers: %w", kind, err)
		}
		for _, a := range args {
			if !finite(a) {
				return nil, fmt.Errorf("%s: %v is not a finite number", kind, a)
			}
		}
		var err error
		switch kind {
		case "linspace":
			vals, err = linspace(args, lim)
		case "logspace":
			vals, err = logspace(args, lim)
		case "range":
			vals, err = intRange(args, lim)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
	default:
		return nil, fmt.Errorf("want a list or one of {linspace, logspace, range} (fixed values go in params)")
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("empty axis")
	}
	for _, v := range vals {
		if !finite(v) {
			return nil, fmt.Errorf("%v is not a finite number", v)
		}
	}
	return vals, nil
}

// axisLimit is the most values one axis may have, and why.
type axisLimit struct {
	n       int
	byTrial bool // n is the trial limit (else MaxAxisValues, or none)
}

func newAxisLimit(maxTrials int) axisLimit {
	if maxTrials < MaxAxisValues {
		return axisLimit{n: maxTrials, byTrial: true}
	}
	return axisLimit{n: MaxAxisValues}
}

// check refuses an axis of n values (n may be a float count not yet known to
// fit an int).
func (l axisLimit) check(n float64) error {
	if n <= float64(l.n) {
		return nil
	}
	if l.byTrial {
		return fmt.Errorf("%s values; the limit is %s trials (raise it with --max-trials)", commaf(n), commas(int64(l.n)))
	}
	return fmt.Errorf("%s values; an axis holds at most %s", commaf(n), commas(MaxAxisValues))
}

func count(args []float64, lim axisLimit) (int, error) {
	if len(args) != 3 {
		return 0, fmt.Errorf("want [lo, hi, n], got %d numbers", len(args))
	}
	n := args[2]
	if n != math.Trunc(n) || n < 1 {
		return 0, fmt.Errorf("n = %v must be a whole number >= 1", n)
	}
	if err := lim.check(n); err != nil {
		return 0, fmt.Errorf("n = %v: %w", n, err)
	}
	return int(n), nil
}

func linspace(args []float64, lim axisLimit) ([]float64, error) {
	n, err := count(args, lim)
	if err != nil {
		return nil, err
	}
	lo, hi := args[0], args[1]
	out := make([]float64, n)
	for i := range out {
		out[i] = lo + (hi-lo)*float64(i)/float64(max(n-1, 1))
	}
	out[n-1] = hi
	out[0] = lo
	return out, nil
}

func logspace(args []float64, lim axisLimit) ([]float64, error) {
	n, err := count(args, lim)
	if err != nil {
		return nil, err
	}
	lo, hi := args[0], args[1]
	if lo <= 0 || hi <= 0 {
		return nil, fmt.Errorf("lo = %v and hi = %v must be > 0 (values, not exponents)", lo, hi)
	}
	out := make([]float64, n)
	llo, lhi := math.Log(lo), math.Log(hi)
	for i := range out {
		out[i] = math.Exp(llo + (lhi-llo)*float64(i)/float64(max(n-1, 1)))
	}
	out[n-1] = hi
	out[0] = lo
	return out, nil
}

// intRange expands range: [lo, hi] or [lo, hi, step]. Its length is
// ceil((hi−lo)/step), checked against lim before allocating; every value is
// exact (|lo|, |hi| ≤ 2^53) and each one is greater than the one before.
func intRange(args []float64, lim axisLimit) ([]float64, error) {
	if len(args) != 2 && len(args) != 3 {
		return nil, fmt.Errorf("want [lo, hi] or [lo, hi, step], got %d numbers", len(args))
	}
	step := 1.0
	if len(args) == 3 {
		step = args[2]
	}
	for _, a := range append(args[:2:2], step) {
		if a != math.Trunc(a) {
			return nil, fmt.Errorf("%v is not a whole number", a)
		}
	}
	lo, hi := args[0], args[1]
	if step < 1 {
		return nil, fmt.Errorf("step = %v must be >= 1", step)
	}
	if hi <= lo {
		return nil, fmt.Errorf("hi = %v must be > lo = %v (hi is exclusive)", hi, lo)
	}
	for _, a := range []float64{lo, hi} {
		if math.Abs(a) > maxExactInt {
			return nil, fmt.Errorf("%v is beyond 2^53 = %s, where float64 has no exact whole numbers "+
				"(v + step would not advance); give such values as a list", a, commas(maxExactInt))
		}
	}
	n := math.Ceil((hi - lo) / step)
	if err := lim.check(n); err != nil {
		return nil, err
	}
	out := make([]float64, 0, int(n))
	for k := 0; k <= int(n); k++ {
		v := lo + float64(k)*step
		if v >= hi {
			break
		}
		if k > 0 && v <= out[k-1] {
			return nil, fmt.Errorf("value %d (%v) does not advance past %v", k, v, out[k-1])
		}
		out = append(out, v)
	}
	return out, nil
}
