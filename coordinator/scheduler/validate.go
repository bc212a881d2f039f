package scheduler

import "github.com/eosweep/eosweep/engine"

// ValidateResult is engine.Result.Validate, kept while the scheduler's
// callers move to it (the rules live with the type).
func ValidateResult(r engine.Result, steps int) error { return r.Validate(steps) }
