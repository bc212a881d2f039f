package scheduler

import (
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/engine"
)

// ValidateResult is engine.Result.Validate, or ValidateProgram for an exec
// trial (steps = spec.NoSteps: its program decides), kept while the
// scheduler's callers move to them (the rules live with the type).
func ValidateResult(r engine.Result, steps int) error {
	if steps == spec.NoSteps {
		return r.ValidateProgram()
	}
	return r.Validate(steps)
}
