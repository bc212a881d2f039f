package engine

// model is one of the paper's objectives F(θ) with its exact derivatives.
// A model owns its data and scratch space; it is not safe for concurrent use.
// Implementations write into caller-provided slices and allocate nothing per call
// after construction.
type model interface {
	// dim is the number of trainable parameters.
	dim() int
	// init writes θ₀ into theta.
	init(theta []float64)
	// loss returns F(θ).
	loss(theta []float64) float64
	// grad writes ∇F(θ) into dst and returns F(θ).
	grad(dst, theta []float64) float64
	// sharpness returns λ_max(∇²F(θ)): exact for small models, Lanczos for relu.
	sharpness(theta []float64) float64
	// bias returns the order parameter: b, or |x| − x₀ for single.
	bias(theta []float64) float64
	// accuracy returns train and test accuracy (0, 0 for models without data).
	accuracy(theta []float64) (train, test float64)
	// dead reports whether every ReLU is off on the training set (output 0).
	dead(theta []float64) bool
	// dump adds the data and the parameters θ₀ and θ to d (see Dump).
	dump(d Dump, theta0, theta []float64)
}
