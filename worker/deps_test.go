package worker_test

import (
	"testing"

	"github.com/eosweep/eosweep/internal/depstest"
)

// The worker links what it runs (the engine, gRPC, the wire conversion), not
// the coordinator: no store, bbolt, scheduler, boundary analysis, optimiser
// or YAML.
func TestWorkerLinksNoCoordinator(t *testing.T) {
	t.Parallel()
	depstest.Forbid(t, "github.com/eosweep/eosweep/worker",
		"github.com/eosweep/eosweep/coordinator", // store, scheduler, boundary, spec, report
		"go.etcd.io/bbolt",
		"gonum.org/v1/gonum/optimize",
		"go.yaml.in/yaml",
	)
}
