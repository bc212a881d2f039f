package spec

import (
	"fmt"
	"math"

	"go.yaml.in/yaml/v3"
)

// axisValues expands one grid axis: a list of numbers, or a mapping with
// exactly one of linspace: [lo, hi, n], logspace: [lo, hi, n] (values, not
// exponents) or range: [lo, hi] / [lo, hi, step] (integers, hi exclusive).
func axisValues(node *yaml.Node, maxValues int) ([]float64, error) {
	var vals []float64
	switch node.Kind {
	case yaml.SequenceNode:
		if err := node.Decode(&vals); err != nil {
			return nil, fmt.Errorf("want a list of numbers: %w", err)
		}
	case yaml.MappingNode:
		if len(node.Content) != 2 {
			return nil, fmt.Errorf("want exactly one of linspace, logspace, range")
		}
		kind := node.Content[0].Value
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
			vals, err = linspace(args, maxValues)
		case "logspace":
			vals, err = logspace(args, maxValues)
		case "range":
			vals, err = intRange(args, maxValues)
		default:
			return nil, fmt.Errorf("unknown generator %q (want linspace, logspace or range)", kind)
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
	if len(vals) > maxValues {
		return nil, fmt.Errorf("%d values: more than %d trials", len(vals), maxValues)
	}
	for _, v := range vals {
		if !finite(v) {
			return nil, fmt.Errorf("%v is not a finite number", v)
		}
	}
	return vals, nil
}

func count(args []float64, maxValues int) (int, error) {
	if len(args) != 3 {
		return 0, fmt.Errorf("want [lo, hi, n], got %d numbers", len(args))
	}
	n := args[2]
	if n != math.Trunc(n) || n < 1 {
		return 0, fmt.Errorf("n = %v must be a whole number >= 1", n)
	}
	if n > float64(maxValues) {
		return 0, fmt.Errorf("n = %v: more than %d trials", n, maxValues)
	}
	return int(n), nil
}

func linspace(args []float64, maxValues int) ([]float64, error) {
	n, err := count(args, maxValues)
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

func logspace(args []float64, maxValues int) ([]float64, error) {
	n, err := count(args, maxValues)
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

func intRange(args []float64, maxValues int) ([]float64, error) {
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
	if (hi-lo)/step > float64(maxValues) {
		return nil, fmt.Errorf("more than %d values", maxValues)
	}
	var out []float64
	for v := lo; v < hi; v += step {
		out = append(out, v)
	}
	return out, nil
}
