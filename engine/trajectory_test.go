package engine

import "testing"

func TestTrajectoryStride(t *testing.T) {
	t.Parallel()
	for _, steps := range []int{1, 2, 253, 254, 255, 256, 1000, 2000, 8334, 16667, 100000, 1e8} {
		for _, every := range []int{1, 3, 7, 100, 391, 1000, 999983, 1e8} {
			s := trajectoryStride(steps, every)
			points := steps/s + 1 // multiples of s in [0, steps]
			if steps%s != 0 {
				points++ // plus the last step
			}
			if s < 1 || points > MaxTrajectory {
				t.Errorf("steps %d, sharpness every %d: stride %d gives %d points", steps, every, s, points)
			}
			if every <= steps/(MaxTrajectory-2) && s%every != 0 {
				t.Errorf("steps %d, sharpness every %d: stride %d is not a multiple", steps, every, s)
			}
		}
	}
	if s := trajectoryStride(2000, 100); s != 10 {
		t.Errorf("relu defaults (2000 steps, sharpness every 100): stride %d, want 10 (a divisor of 100)", s)
	}
}
