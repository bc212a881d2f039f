package engine

// trajectory samples the points of a run: every stride steps from step 0, and
// the last iterate. The stride is chosen so that at most MaxTrajectory points
// are kept and, where it can be, so that sampled steps coincide with the
// steps where the sharpness is measured.
type trajectory struct {
	stride int
	points []Point
}

func newTrajectory(steps, sharpEvery int) trajectory {
	s := trajectoryStride(steps, sharpEvery)
	return trajectory{stride: s, points: make([]Point, 0, steps/s+2)}
}

// trajectoryStride returns a stride ≥ ceil(steps/(MaxTrajectory−2)), so that the
// points at multiples of it in [0, steps] plus the last one number at most
// MaxTrajectory, and aligned with sharpEvery: a multiple of it when the
// sharpness is measured often, otherwise a divisor of it if one is large enough.
func trajectoryStride(steps, sharpEvery int) int {
	base := max(1, (steps+MaxTrajectory-3)/(MaxTrajectory-2))
	if sharpEvery <= base {
		return sharpEvery * ((base + sharpEvery - 1) / sharpEvery)
	}
	for s := base; s <= sharpEvery; s++ {
		if sharpEvery%s == 0 {
			return s
		}
	}
	return base
}

// maybeAdd keeps p if its step is on the stride.
func (t *trajectory) maybeAdd(p Point) {
	if p.Step%t.stride == 0 {
		t.points = append(t.points, p)
	}
}

// add keeps p, the last point of the run, replacing a point of the same step.
func (t *trajectory) add(p Point) {
	if n := len(t.points); n > 0 && t.points[n-1].Step == p.Step {
		t.points[n-1] = p
		return
	}
	t.points = append(t.points, p)
}
