package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// newRNG returns a deterministic generator for one named stream. The PCG state
// is keyed by a SHA-256 hash of the stream name and vals, so distinct streams
// (or distinct parameter values) give independent sequences, and the same
// (stream, vals) gives the same sequence in any process, goroutine or order.
//
// Key a stream by exactly what should change it: data by the seed and the data
// parameters, an initialisation by the seed and the widths (a float parameter
// enters as math.Float64bits).
func newRNG(stream string, vals ...uint64) *rand.Rand {
	h := sha256.New()
	h.Write([]byte(stream))
	h.Write([]byte{0}) // separate the name from the values
	var buf [8]byte
	for _, v := range vals {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])))
}

// normals fills dst with independent N(0, scale²) samples from r.
func normals(r *rand.Rand, dst []float64, scale float64) {
	for i := range dst {
		dst[i] = scale * r.NormFloat64()
	}
}
