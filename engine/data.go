package engine

// Data shared by the sparse and relu models: x = λ·y·e_j + σ·ξ,
// y uniform in {±1}, j uniform in [d], ξ ~ N(0, I_d).

// dataDim is the data dimension d of cfg: the width for sparse, D for relu.
func dataDim(cfg Config) int {
	if cfg.Model == ModelSparse {
		return cfg.Width
	}
	return cfg.D
}

// sparseData generates the training set (X n×d row-major, y of ±1) and the test
// set (Xtest n_test×d, ytest) of cfg. It depends on the seed and the data
// parameters only (d, n, n_test, lam, noise), never on η, the width of a relu
// network or the model, so every trial of one seed sees the same data.
//
// The random draws are keyed by (seed, d, n) for the training set and
// (seed, d, n_test) for the test set; λ and σ scale those draws. So changing
// λ or σ rescales the same draws (common random numbers), and changing n_test
// leaves the training set unchanged.
func sparseData(cfg Config) (X, y, Xtest, ytest []float64) {
	d := dataDim(cfg)
	X, y = sparseSample("data/train", cfg.Seed, d, cfg.N, cfg.Lam, cfg.Noise)
	Xtest, ytest = sparseSample("data/test", cfg.Seed, d, cfg.NTest, cfg.Lam, cfg.Noise)
	return X, y, Xtest, ytest
}

// sparseSample draws n samples of dimension d from the named stream.
func sparseSample(stream string, seed uint64, d, n int, lam, noise float64) (X, y []float64) {
	r := newRNG(stream, seed, uint64(d), uint64(n))
	X = make([]float64, n*d)
	y = make([]float64, n)
	for k := range n {
		label := 1.0
		if r.Uint64()&1 == 1 {
			label = -1
		}
		j := r.IntN(d)
		row := X[k*d : (k+1)*d]
		normals(r, row, noise)
		row[j] += lam * label
		y[k] = label
	}
	return X, y
}
