package spec

import (
	"bytes"
	"context"
	"fmt"
	"math"
)

// eachCheckEvery is how many grid points Each expands between checks of its
// context.
const eachCheckEvery = 1024

// Size returns the number of trials the grid expands to: the product of the
// axes' distinct values (a value given twice on an axis is one point). It
// allocates nothing.
func (s *Spec) Size() int {
	n := 1
	for _, pts := range s.axisPoints() {
		if len(pts) > 0 && n > math.MaxInt/len(pts) {
			return math.MaxInt
		}
		n *= len(pts)
	}
	return n
}

// Each expands the grid point by point, in order (the cartesian product of
// the axes, last axis fastest), and calls fn with each point's ordinal
// i ∈ [0, Size()) and its resolved trial. Nothing but the current point is
// held, so a grid of millions of points expands in constant memory. Each
// checks ctx every 1024 points and returns its error (wrapped) when it is
// done; it stops at the first error of fn, returned as it is, or of
// resolving a point, which wraps ErrInvalid and names the point.
//
// Points never repeat a configuration: the axes' repeated values are
// expanded once, and two points that differ in a value resolve to different
// configurations (a Config's key holds every parameter as given).
func (s *Spec) Each(ctx context.Context, fn func(i int, t Trial) error) error {
	return s.EachIn(ctx, 0, s.Size(), fn)
}

// EachIn is Each over the points of ordinals [from, to) only (clamped to
// the grid), so that parts of one grid can be expanded concurrently.
func (s *Spec) EachIn(ctx context.Context, from, to int, fn func(i int, t Trial) error) error {
	axes := s.axisPoints()
	n := s.Size()
	from, to = max(from, 0), min(to, n)
	idx := make([]int, len(axes))
	for a, rest := len(axes)-1, from; a >= 0 && from < to; a-- {
		idx[a] = rest % len(axes[a])
		rest /= len(axes[a])
	}
	for i := from; i < to; i++ {
		if (i-from)%eachCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("expand grid: stopped at point %d of %d: %w", i, n, err)
			}
		}
		t, err := s.point(axes, idx)
		if err != nil {
			return err
		}
		if err := fn(i, t); err != nil {
			return err
		}
		for a := len(idx) - 1; a >= 0; a-- {
			idx[a]++
			if idx[a] < len(axes[a]) {
				break
			}
			idx[a] = 0
		}
	}
	return nil
}

// At returns the grid point of ordinal i ∈ [0, Size()): the trial Each gives
// as its i-th.
func (s *Spec) At(i int) (Trial, error) {
	axes := s.axisPoints()
	if n := s.Size(); i < 0 || i >= n {
		return Trial{}, fmt.Errorf("grid point %d: out of range [0, %d)", i, n)
	}
	idx := make([]int, len(axes))
	for a := len(axes) - 1; a >= 0; a-- {
		idx[a] = i % len(axes[a])
		i /= len(axes[a])
	}
	return s.point(axes, idx)
}

// Trials expands the whole grid into a slice: Each, collected. For small
// grids (tests, in-process runs); a submit streams with Each.
func (s *Spec) Trials() ([]Trial, error) {
	out := make([]Trial, 0, min(s.Size(), DefaultMaxTrials))
	err := s.Each(context.Background(), func(_ int, t Trial) error {
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// point resolves the grid point at idx (an index into each axis's points).
func (s *Spec) point(axes [][]float64, idx []int) (Trial, error) {
	p := make(map[string]float64, len(s.Params)+len(s.Grid))
	for k, v := range s.Params {
		p[k] = v
	}
	for a, ax := range s.Grid {
		p[ax.Name] = axes[a][idx[a]]
	}
	t, err := s.NewTrial(p)
	if err != nil {
		return Trial{}, fmt.Errorf("%w: grid point %s: %w", ErrInvalid, s.pointString(axes, idx), err)
	}
	return t, nil
}

// validate checks that the grid's points resolve (see Parse): all of them
// for a grid of at most FullCheckPoints, else every axis value and every
// pair of axes' extreme corners, all of them points of the grid.
func (s *Spec) validate() error {
	if s.Size() <= FullCheckPoints {
		return s.Each(context.Background(), func(int, Trial) error { return nil })
	}
	axes := s.axisPoints()
	idx := make([]int, len(axes))
	for a := range axes {
		for j := range axes[a] {
			idx[a] = j
			if _, err := s.point(axes, idx); err != nil {
				return err
			}
		}
		idx[a] = 0
	}
	ends := make([][2]int, len(axes)) // per axis: the index of its smallest and largest value
	for a, pts := range axes {
		for j, v := range pts {
			if v < pts[ends[a][0]] {
				ends[a][0] = j
			}
			if v > pts[ends[a][1]] {
				ends[a][1] = j
			}
		}
	}
	for a := range axes {
		for b := a + 1; b < len(axes); b++ {
			for _, ea := range ends[a] {
				for _, eb := range ends[b] {
					idx[a], idx[b] = ea, eb
					if _, err := s.point(axes, idx); err != nil {
						return err
					}
				}
			}
			idx[a], idx[b] = 0, 0
		}
	}
	return nil
}

// axisPoints returns each axis's distinct values (computed for a Spec built
// by hand rather than by Parse).
func (s *Spec) axisPoints() [][]float64 {
	if len(s.points) == len(s.Grid) {
		return s.points
	}
	out := make([][]float64, len(s.Grid))
	for i, a := range s.Grid {
		out[i] = distinct(a.Values)
	}
	return out
}

// distinct returns vals without repeats (by bit pattern, so 0 and −0, which
// name different configurations, both stay), first occurrences in order. A
// strictly monotone axis (every generator's, but for rounding) is returned as
// it is.
func distinct(vals []float64) []float64 {
	up, down := true, true
	for i := 1; i < len(vals); i++ {
		up = up && vals[i] > vals[i-1]
		down = down && vals[i] < vals[i-1]
	}
	if up || down {
		return vals
	}
	seen := make(map[uint64]bool, len(vals))
	out := make([]float64, 0, len(vals))
	for _, v := range vals {
		if b := math.Float64bits(v); !seen[b] {
			seen[b] = true
			out = append(out, v)
		}
	}
	return out
}

func (s *Spec) pointString(axes [][]float64, idx []int) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, a := range s.Grid {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%v", a.Name, axes[i][idx[i]])
	}
	b.WriteByte('}')
	return b.String()
}
