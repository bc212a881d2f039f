package main

import (
	"errors"
	"fmt"
	"sort"

	"codeberg.org/sbinet/npyio/npz"
	"gonum.org/v1/gonum/mat"

	"github.com/eosweep/eosweep/engine"
)

// writeNPZ writes d as a NumPy .npz file (readable by numpy.load): 0-d arrays
// as float64 scalars, 1-d as vectors, 2-d as row-major matrices. A 2-d array
// with no rows (e.g. X_test when n_test = 0) is written as an empty vector.
func writeNPZ(path string, d engine.Dump) (err error) {
	w, err := npz.Create(path)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	defer func() {
		if cerr := w.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("dump %s: %w", path, cerr)
		}
	}()
	names := make([]string, 0, len(d))
	for name := range d {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v, err := npzValue(d[name])
		if err != nil {
			return fmt.Errorf("dump %s: array %q: %w", path, name, err)
		}
		if err := w.Write(name, v); err != nil {
			return fmt.Errorf("dump %s: array %q: %w", path, name, err)
		}
	}
	return nil
}

// npzValue converts an engine.Array to a value npyio writes with that shape.
func npzValue(a engine.Array) (any, error) {
	size := 1
	for _, s := range a.Shape {
		size *= s
	}
	if size != len(a.Data) {
		return nil, fmt.Errorf("shape %v does not hold %d values", a.Shape, len(a.Data))
	}
	switch {
	case len(a.Shape) == 0:
		return a.Data[0], nil
	case len(a.Shape) == 1 || size == 0:
		return a.Data, nil
	case len(a.Shape) == 2:
		return mat.NewDense(a.Shape[0], a.Shape[1], a.Data), nil
	}
	return nil, errors.New("arrays of more than 2 dimensions are not supported")
}
