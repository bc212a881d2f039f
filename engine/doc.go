// Package engine is eosweep's native gradient-descent engine: the models of
// "Learning threshold neurons via the edge of stability" (Ahn et al., NeurIPS
// 2023), their exact gradients and curvature, and the trial runner.
//
// # Basics
//
// A trial is described by a Config, obtained from a model name and parameters
// with Resolve (which applies defaults and rejects bad input by name). Run
// performs full-batch gradient descent θ ← θ − η∇F(θ) and returns a Result:
// the final and minimum bias, the sharpness at initialisation and at the end,
// η·sharpness/2, accuracy, divergence and a downsampled trajectory.
//
// # Models
//
//   - single: F = ℓ_sym(x·y); GD is stable iff η < 8/x₀².
//   - mean:   F = ℓ_sym(σ(b)·Σa); η* = 16π/m at b₀ = 0.
//   - sparse: the paper's Figure 1 network, trainable (a⁺, a⁻, b); η* = 8π/d².
//   - relu:   two-layer symmetric ReLU network with a trained first layer.
//
// # Caveats
//
// The engine is pure computation: it never touches the network or the disk.
// A trial is a pure function of its Config: the same Config gives bit-identical
// results on any machine, goroutine or order (wall time aside).
package engine
