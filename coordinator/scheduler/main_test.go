package scheduler

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a goroutine outlives the tests: every expiry
// loop, refinement step, long poll and store committer must stop.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
