//go:build race

package scheduler

// raceEnabled: the race detector slows the large sweeps of scale_test.go
// ten-fold; they run smaller (or not at all) under it.
const raceEnabled = true
