package execrun

import (
	"testing"

	"github.com/eosweep/eosweep/internal/depstest"
)

// The runner is a leaf of the worker: of this module it links the engine's
// result type and the template syntax only (no gRPC, no coordinator).
func TestLeaf(t *testing.T) {
	t.Parallel()
	depstest.Within(t, "github.com/eosweep/eosweep/worker/execrun", "github.com/eosweep/eosweep",
		"github.com/eosweep/eosweep/engine", "github.com/eosweep/eosweep/internal/placeholder")
}
