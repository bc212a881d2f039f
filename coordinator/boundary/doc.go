// Package boundary locates the phase-transition boundary of a sweep: per group
// of trials (every grid axis but η and seed), the step size η* at which gradient
// descent starts to learn a threshold neuron, three ways (bracket of the learned
// fraction, logistic fit, hinge onset), beside the theory and stability lines.
// It also plans adaptive refinement. It is pure computation over stored trials:
// no store, no network.
//
// # Basics
//
// The order parameter is a metric of each trial's result (Options.Metric; by
// default final_bias, the bias b_T of the paper's threshold neuron) against a
// reference. Data and initialisation depend on the seed, not on η, so within a
// group each seed is a paired series over η: its plateau is the metric at the
// group's smallest η (the stable phase, where gradient descent ends where
// gradient flow would) or at Options.ReferenceEta, and a trial has learned a
// threshold when it is past its seed's plateau, in the metric's sense (drop or
// rise), by more than Options.BiasEps. With Metric.Level set the reference is
// that fixed level instead (η·sharpness/2 reaching 1, say), and a seed counts
// from the first η at which it passes it.
//
// Analyze computes an Analysis once: every trial's OrderParameter (its drop
// below its seed's plateau and whether that counts as learned) and every
// Group's boundary. Refinement (Refine), the coordinator's GetBoundary, the
// dashboard and the report all read that one value; Record is the JSON form
// of a Group. Per group, three estimators:
//
//   - the bracket: the two adjacent grid η between which the learned fraction
//     crosses ½ (or the side of the grid the crossing lies beyond);
//   - η* from a maximum-likelihood logistic fit of learned ~ log η, with its
//     95% profile-likelihood interval; when learned and unlearned trials are
//     separated in η the likelihood has no maximum, and η* is the
//     log-midpoint of the gap, its interval the gap (Fit says which);
//   - the onset from a hinge fit of the drop against η — zero below, growing
//     above, in the form (HingeForms) that fits best — which does not depend
//     on bias_eps, with its profile interval.
//
// Beside them: the model's theory line (single 8/x₀², mean 16π/m, sparse
// 8π/d²; none for relu and exec) and the stability line 2/S₀, the median over
// the group's seeds of the initial sharpness.
//
// # Caveats
//
// Diverged trials are counted apart (EtaRow.Diverged, Group.Diverged) and are
// never learned: they are left out of the fits. Trials without a result
// (failed, pending, leased, cancelled; AnalyzeIncomplete's MissingTrials) are
// not guessed at either: every group they belong to is Incomplete, lists them
// in Missing, and names in Unconverged each estimate that one of them could
// still move (the bracket when a missing η lies between its ends or a
// missing seed could tip a fraction across ½, an interval when a missing η
// lies inside it). η* may sit at or outside its own bracket: the bracket comes
// from per-η fractions, η* from a fit of every trial, and with few seeds the
// two disagree by up to a grid step. A plateau taken at the smallest η is only
// a plateau if that η is in the stable phase; when a group learns already
// there, Crossing is CrossingBelow and η* lies below the grid.
package boundary
