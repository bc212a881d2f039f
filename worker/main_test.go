package worker_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a goroutine outlives the tests: every worker
// loop, scheduler loop, store committer and gRPC connection must stop.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
